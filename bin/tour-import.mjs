#!/usr/bin/env node
// `npx tour-import …`: runs the TypeScript CLI through tsx's loader, wherever it is called from.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
