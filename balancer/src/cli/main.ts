#!/usr/bin/env node
// The `mediaplane-admin` executable: everything it does is in run.ts, so tests call the same code in-process.
import { runCli } from "./run.js";

const { code, stdout, stderr } = await runCli(process.argv.slice(2), process.env);
if (stdout !== "") process.stdout.write(`${stdout}\n`);
if (stderr !== "") process.stderr.write(`${stderr}\n`);
process.exitCode = code;
