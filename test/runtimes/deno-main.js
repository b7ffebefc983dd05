import * as lk from '../../dist/index.js';
import { seededRun } from './seeded-run.js';

console.log(JSON.stringify(await seededRun(lk)));
