// Every workflow the Pledge worker runs; the bundler starts from this file.
export { complaint } from './complaint';
