/**
 * Traces (docs/operations.md: Traces): the one place that sets up OpenTelemetry, for both workers, the API and the
 * CLI's client. Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test passes an exporter): then no
 * provider is registered, the API's global tracer stays the no-op one and the workers get no tracing
 * interceptors. On: spans go over OTLP/HTTP to `<endpoint>/v1/traces`, in batches.
 *
 * Temporal's spans come from @temporalio/interceptors-opentelemetry on the 1.x line, matching the SDK
 * (histories made with it and with the v2 package do not replay across). Its workflow interceptors only
 * add headers and sink calls, never commands: test/unit/workflows/replay-fixtures.test.ts replays the
 * committed histories with them.
 */
import { createRequire } from 'node:module';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';

const require = createRequire(import.meta.url);

/** Bundled with the workflows (scripts/build-workflow-bundle.ts): spans of workflows, their activities and children. */
export const WORKFLOW_TRACING_MODULES = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

export interface TracingOptions {
  /** `service.name` of this process's spans, e.g. tour-import-worker. */
  serviceName: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; unset (and no exporter): tracing is off. */
  endpoint?: string;
  /** Instead of OTLP (tests: an InMemorySpanExporter); each span is exported when it ends. */
  exporter?: SpanExporter;
}

let active: { provider: BasicTracerProvider; processor: SpanProcessor; resource: Resource } | undefined;

/** Registers the global tracer provider when tracing is configured; returns whether it is on. */
export function startTracing(o: TracingOptions): boolean {
  if (active) return true;
  const exporter =
    o.exporter ??
    (o.endpoint ? new OTLPTraceExporter({ url: `${o.endpoint.replace(/\/+$/, '')}/v1/traces` }) : undefined);
  if (!exporter) return false;
  const resource = new Resource({ 'service.name': o.serviceName });
  const processor = o.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  // Async context, so a span started in an activity is the parent of the HTTP and SQL spans under it.
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  active = { provider, processor, resource };
  return true;
}

export function tracingEnabled(): boolean {
  return active !== undefined;
}

/** Exports what is still buffered and stops; a process calls it before it exits (the CLI after each command). */
export async function stopTracing(): Promise<void> {
  const was = active;
  active = undefined;
  await was?.provider.shutdown();
}

/** A Temporal client's interceptors: starting a workflow opens the trace and hands it on in a header. */
export function tracingClientInterceptors(): ClientInterceptors | undefined {
  return active ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}

/**
 * A worker's tracing. The workflow modules go in where the worker bundles its workflows itself
 * (`bundlesWorkflows`); a prebuilt bundle carries them already, so the `exporter` sink always exists,
 * dropping its spans when tracing is off.
 */
export function tracingWorkerOptions(bundlesWorkflows: boolean): {
  interceptors: WorkerInterceptors;
  sinks: InjectedSinks<OpenTelemetrySinks>;
} {
  if (!active) return { interceptors: {}, sinks: { exporter: { export: { fn: () => undefined } } } };
  return {
    interceptors: {
      workflowModules: bundlesWorkflows ? WORKFLOW_TRACING_MODULES : [],
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: makeWorkflowExporter(active.processor, active.resource) },
  };
}
