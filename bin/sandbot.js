#!/usr/bin/env node
// The sources are TypeScript run by Node's built-in type stripping (Node >= 22.18), so there
// is no build step; this shim only gives npm a JavaScript file to link as the `sandbot` bin.
import { runCli } from '../src/cli/main.ts';

await runCli();
