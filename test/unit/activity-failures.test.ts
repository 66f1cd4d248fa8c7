import { ApplicationFailure } from '@temporalio/common';
import { register } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { classifyActivityError, failureContextOf, withFailureClassification } from '../../activities/failures';
import { renderNotification, TemplateError } from '../../domain/notification-templates';

/** What postgres.js throws: an Error named PostgresError carrying the server's SQLSTATE. */
function postgresError(code: string, message = `error ${code}`): Error {
  return Object.assign(new Error(message), { name: 'PostgresError', code, severity: 'ERROR' });
}

async function failureValue(activity: string, type: string): Promise<number> {
  const metric = await register.getSingleMetric('pledge_activity_failures_total')!.get();
  return metric.values.find((value) => value.labels.activity === activity && value.labels.type === type)?.value ?? 0;
}

describe('activity failure classification (issue 8, item 6)', () => {
  it('classifies SQLSTATE classes 22 and 23 as data errors and nothing else', () => {
    expect(classifyActivityError(postgresError('23505'))).toBe('DataError');
    expect(classifyActivityError(postgresError('23503'))).toBe('DataError');
    expect(classifyActivityError(postgresError('22P02'))).toBe('DataError');
    expect(classifyActivityError(postgresError('22001'))).toBe('DataError');
    expect(classifyActivityError(postgresError('40001'))).toBeUndefined();
    expect(classifyActivityError(postgresError('40P01'))).toBeUndefined();
    expect(classifyActivityError(postgresError('57P01'))).toBeUndefined();
    expect(classifyActivityError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    // A code alone is not enough: only Postgres's own errors carry a SQLSTATE.
    expect(classifyActivityError(Object.assign(new Error('x'), { code: '23505' }))).toBeUndefined();
  });

  it('classifies template errors, including those renderNotification throws', () => {
    expect(classifyActivityError(new TemplateError('missing param'))).toBe('TemplateError');
    let thrown: unknown;
    try {
      renderNotification('incident.update', 'en', {});
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TemplateError);
    expect(classifyActivityError(thrown)).toBe('TemplateError');
  });

  it('rethrows a 23505 as a non-retryable DataError, logged with the activity and its case, and counts it', async () => {
    const lines: string[] = [];
    const activities = withFailureClassification(
      {
        async recordSteps(_input: { workflowId: string; state: { caseId: string } }): Promise<{ recorded: number }> {
          throw postgresError('23505', 'duplicate key value violates unique constraint "cases_workflow_id_key"');
        },
      },
      (line) => lines.push(line),
    );
    const before = await failureValue('recordSteps', 'DataError');
    const failure = await activities.recordSteps({ workflowId: 'complaint-CMP-2026-000001', state: { caseId: 'CMP-2026-000001' } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'DataError', nonRetryable: true, details: [{ sqlState: '23505' }] });
    expect((failure as Error).message).toContain('recordSteps: duplicate key value');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'error',
      activity: 'recordSteps',
      type: 'DataError',
      workflowId: 'complaint-CMP-2026-000001',
      caseId: 'CMP-2026-000001',
      sqlState: '23505',
    });
    expect(await failureValue('recordSteps', 'DataError')).toBe(before + 1);
  });

  it('rethrows a 40001 as it is, so Temporal retries it, and counts it as transient', async () => {
    const lines: string[] = [];
    const serialization = postgresError('40001', 'could not serialize access');
    const activities = withFailureClassification(
      {
        async deliverIncidentPage(_input: { caseId: string }) {
          throw serialization;
        },
      },
      (line) => lines.push(line),
    );
    const before = await failureValue('deliverIncidentPage', 'Transient');
    await expect(activities.deliverIncidentPage({ caseId: 'INC-2026-000002' })).rejects.toBe(serialization);
    expect(lines).toEqual([]);
    expect(await failureValue('deliverIncidentPage', 'Transient')).toBe(before + 1);
  });

  it('passes results through and keeps an ApplicationFailure an activity threw itself', async () => {
    const own = ApplicationFailure.retryable('try later', 'Busy');
    const activities = withFailureClassification({
      async ok(value: number) {
        return value * 2;
      },
      async busy() {
        throw own;
      },
    });
    expect(await activities.ok(21)).toBe(42);
    await expect(activities.busy()).rejects.toBe(own);
  });

  it('names the case from the input shapes activities take', () => {
    expect(failureContextOf({ incidentWorkflowId: 'incident-INC-1', caseId: 'INC-1' })).toEqual({ workflowId: 'incident-INC-1', caseId: 'INC-1' });
    expect(failureContextOf({ fanoutKey: 'k' })).toEqual({});
    expect(failureContextOf(undefined)).toEqual({});
  });
});
