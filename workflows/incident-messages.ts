import { defineSignal } from '@temporalio/workflow';
import type { AlertBatch, IncidentMerge } from '../domain/incident';

/**
 * O1/O2: alerts for an incident. The API delivers them with signal-with-start on the incident's
 * workflow id, so the first batch opens the incident and every later one (repeats, re-sends,
 * resolutions) joins it. Declared once here, imported by the API and the workflow alike.
 */
export const alertsSignal = defineSignal<[AlertBatch]>('alerts');

/**
 * O2/P5: an incident merged into another tells its target what it knows (alerts, scope, the scopes
 * and notification keys under which users were told). Sent by the absorbed incident's workflow.
 */
export const incidentMergeSignal = defineSignal<[IncidentMerge]>('incident-merge');
