#!/usr/bin/env node
// The `minirag` command (npx minirag …): runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
