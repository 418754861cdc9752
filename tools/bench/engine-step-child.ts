// Child-process entry for one training-step measurement, so its peak RSS is its own:
//   node --import tsx tools/bench/engine-step-child.ts '<StepRequest JSON>'
// Prints one line `RESULT <json>` with the StepResult plus maxRssKb (getrusage) and vmHwmKb (/proc/self/status).
import * as fs from 'node:fs';
import { measureTrainStep, type StepRequest } from './engine-step.ts';

const req = JSON.parse(process.argv[2] ?? '') as StepRequest;
const result = await measureTrainStep(req);
const status = fs.existsSync('/proc/self/status') ? fs.readFileSync('/proc/self/status', 'utf8') : '';
const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
console.log('RESULT ' + JSON.stringify({ ...result, maxRssKb: process.resourceUsage().maxRSS, vmHwmKb: hwm ? Number(hwm[1]) : null }));
