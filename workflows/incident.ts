import { ApplicationFailure, continueAsNew, executeChild, getExternalWorkflowHandle, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { caseWorkflowId } from '../domain/case-types';
import { fanoutAttempts, incidentCase, incidentOutcome, type IncidentEffect, type IncidentInput, type IncidentOutcome, type IncidentState } from '../domain/incident-case';
import { runCase, type CarriedCase } from './case-runtime';
import { incidentFanout } from './incident-fanout';
import { alertsSignal, incidentMergeSignal } from './incident-messages';

export type { IncidentInput, IncidentOutcome } from '../domain/incident-case';

const { countAffectedCustomers, closeAlertGroup, recordOutage, adoptAlertGroups } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['DataError', 'TemplateError'] },
});

// P4: paying an incident's approved remedies pages through them, a transaction per thousand.
const { approvePendingRemedies } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['DataError', 'TemplateError'] },
});

/** An outage incident (O1–O9) on the case runtime; its rules are `incidentCase` in domain/. */
export async function incident(input: IncidentInput, carried?: CarriedCase<IncidentState, IncidentEffect>): Promise<IncidentOutcome> {
  const state = await runCase({
    definition: incidentCase,
    input,
    carried,
    signals: [alertsSignal, incidentMergeSignal],
    maxHistoryEvents: input.policy.maxHistoryEventsPerRun,
    // A merge's signal waits behind this incident's own fan-outs, so the target sees who they told.
    effects: { run: (effect) => runEffect(input, effect), inBackground: (effect) => effect.kind === 'fanout' || effect.kind === 'merge-into', maxAttempts: fanoutAttempts },
    continueAsNew: (next) => continueAsNew<typeof incident>(input, next),
  });
  return incidentOutcome(state);
}

async function runEffect(input: IncidentInput, effect: IncidentEffect): Promise<unknown> {
  switch (effect.kind) {
    case 'count-affected':
      return countAffectedCustomers({ scopes: effect.scopes });
    case 'record-outage':
      return recordOutage(effect.outage);
    case 'close-alert-group':
      return closeAlertGroup({ caseId: input.caseId, closedAt: effect.closedAt, dedupKey: effect.dedupKey, knownAlerts: effect.knownAlerts });
    case 'adopt-alert-groups':
      return adoptAlertGroups({ fromCaseId: effect.fromCaseId, toCaseId: input.caseId, at: effect.at, knownAlerts: effect.knownAlerts, release: effect.release });
    case 'approve-remedies':
      return approvePendingRemedies({ caseId: input.caseId, approvedBy: effect.approvedBy, timeZone: input.timeZone });
    case 'merge-into':
      try {
        await getExternalWorkflowHandle(caseWorkflowId('incident', effect.into)).signal(incidentMergeSignal, effect.merge);
      } catch (error) {
        // The server fails the signal only when the target is not running (unknown or finished): trying again cannot help.
        throw ApplicationFailure.create({ type: 'MergeTargetUnavailable', message: `incident ${effect.into} is not running: ${(error as Error).message}`, nonRetryable: true });
      }
      return { into: effect.into };
    case 'fanout': {
      const { request } = effect;
      // From the case number, not workflowInfo(): the same id on replay under any workflow id.
      const fanoutWorkflowId = `${caseWorkflowId('incident', input.caseId)}-fanout-${request.number}-${request.kind}`;
      return executeChild(incidentFanout, {
        workflowId: fanoutWorkflowId,
        args: [
          {
            incidentWorkflowId: caseWorkflowId('incident', input.caseId),
            caseId: input.caseId,
            notificationKeyPrefix: request.keyPrefix,
            recipientsKey: fanoutWorkflowId,
            kind: request.kind,
            scopes: request.scopes,
            pageSize: input.policy.fanoutPageSize,
            pagesPerRun: input.policy.fanoutPagesPerRun,
            timeZone: input.timeZone,
            message: request.message,
            ...(request.skipNotifiedUnder ? { skipNotifiedUnder: request.skipNotifiedUnder } : {}),
            ...(request.kind === 'recovery' ? { compensation: input.compensation } : {}),
            ...(request.approvalThresholdCents === undefined ? {} : { approvalThresholdCents: request.approvalThresholdCents }),
          },
        ],
      });
    }
  }
}
