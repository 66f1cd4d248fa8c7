// Every workflow the Pledge worker runs; the bundler starts from this file.
export { complaint } from './complaint';
export { incident } from './incident';
export { incidentFanout } from './incident-fanout';
