/**
 * Workflow changes made while imports may be running, as `patched()` ids: a worker with the new code
 * replays a history recorded before the change the old way. Each change after a release is patched
 * against that release's histories (test/fixtures/histories); a patch and its old branch go at the
 * release after every workflow started before it has closed (docs/development.md, "Cutting a release").
 * None since 0.1.0.
 */
export const PATCHES = {} as const;
