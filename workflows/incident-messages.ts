import { defineSignal } from '@temporalio/workflow';
import type { AlertBatch } from '../domain/incident';

/**
 * O1/O2: alerts for an incident. The API delivers them with signal-with-start on the incident's
 * workflow id, so the first batch opens the incident and every later one (repeats, re-sends,
 * resolutions) joins it. Declared once here, imported by the API and the workflow alike.
 */
export const alertsSignal = defineSignal<[AlertBatch]>('alerts');
