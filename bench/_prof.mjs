import { setThreads, setDebug } from 'latentkit';
import { dcganStep } from './workloads.mjs';
setThreads(1);
const step = dcganStep(64);
for (let i = 0; i < 3; i++) step();
setDebug(1);
for (let i = 0; i < 3; i++) step();
setDebug(0);
