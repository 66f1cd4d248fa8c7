// Every workflow the Pledge worker runs; the bundler starts from this file.
export { complaint } from './complaint';
export { compensation } from './compensation';
export { dataRequest } from './data-request';
export { incident } from './incident';
export { incidentFanout } from './incident-fanout';
export { renewalNotice } from './renewal-notice';
export { retentionPurge } from './retention-purge';
export { serviceChange } from './service-change';
export { termination } from './termination';
