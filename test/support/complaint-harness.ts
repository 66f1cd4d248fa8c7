import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { StaffRole } from '../../domain/actors';
import type { CaseState } from '../../domain/case-state';
import { caseWorkflowId, formatCaseId } from '../../domain/case-types';
import type { ComplaintInput } from '../../workflows/complaint';
import { actUpdate, stateQuery } from '../../workflows/protocol';
import { complaintInput } from './case-inputs';
import { seedCustomer, type TestDatabase } from './database';
import { eventually } from './eventually';
import { startTimeSkippingBed, type TimeSkippingBed } from './time-skipping-bed';

export { days, hours, minutes } from './durations';

export { complaintInput, shippedCalendar } from './case-inputs';

/** C13: responses state the problem, the steps and the expected completion; tests that do not care get these. */
export function withResponseContent(action: string, input: Record<string, unknown>): Record<string, unknown> {
  if (!['acknowledge', 'report-preliminary', 'resolve'].includes(action)) return input;
  return { problem: 'A duplicate charge', steps: 'Billing refunds the second charge', expectedCompletionAt: '2030-01-01T10:00:00+08:00', ...input };
}

/** A time-skipping server, a migrated Postgres and a running worker for one test file. */
export class ComplaintHarness {
  env!: TestWorkflowEnvironment;
  db!: TestDatabase;
  private bed?: TimeSkippingBed;
  private sequence = 0;

  constructor(
    private readonly postgresPort: number,
    private readonly taskQueue: string,
  ) {}

  async start(): Promise<void> {
    this.bed = await startTimeSkippingBed({ postgresPort: this.postgresPort, taskQueue: this.taskQueue });
    this.env = this.bed.env;
    this.db = this.bed.db;
    await seedCustomer(this.db.sql, { id: 'cust-1', locale: 'en' });
  }

  async stop(): Promise<void> {
    await this.bed?.stop();
  }

  async open(overrides: Partial<ComplaintInput> = {}): Promise<WorkflowHandle> {
    const input = complaintInput(formatCaseId('complaint', 2026, ++this.sequence), overrides);
    return this.env.client.workflow.start('complaint', { taskQueue: this.taskQueue, workflowId: caseWorkflowId('complaint', input.caseId), args: [input] });
  }

  act(handle: WorkflowHandle, action: string, input: Record<string, unknown> = {}, role: StaffRole = 'agent'): Promise<CaseState> {
    return handle.executeUpdate(actUpdate, { args: [{ action, input: withResponseContent(action, input), actor: { id: `${role}/test`, role } }] });
  }

  /** The refusal message of an action the workflow must turn down. */
  async refusal(handle: WorkflowHandle, action: string, input: Record<string, unknown> = {}, role: StaffRole = 'agent'): Promise<string> {
    try {
      await this.act(handle, action, input, role);
    } catch (error) {
      return String((error as { cause?: { message?: string } }).cause?.message ?? error);
    }
    throw new Error(`${action} was accepted but should have been refused`);
  }

  state(handle: WorkflowHandle): Promise<CaseState> {
    return handle.query(stateQuery);
  }

  async deadline(handle: WorkflowHandle, name: string) {
    const deadline = (await this.state(handle)).deadlines.find((entry) => entry.name === name);
    if (!deadline) throw new Error(`no deadline ${name}`);
    return deadline;
  }

  async events(caseId: string): Promise<{ type: string; data: Record<string, unknown>; occurredAt: Date }[]> {
    return this.db.sql<{ type: string; data: Record<string, unknown>; occurredAt: Date }[]>`
      select type, data, occurred_at as "occurredAt" from case_events where case_id = ${caseId} order by step`;
  }

  /**
   * The timeline once it holds an event of `type`: a clock event is recorded by an activity right
   * after the workflow's state changes, so a query can see the change before the row exists.
   */
  async eventsOnceRecorded(caseId: string, type: string) {
    return eventually(
      () => this.events(caseId),
      (events) => events.some((event) => event.type === type),
    );
  }

  async eventTypes(caseId: string): Promise<string[]> {
    return (await this.events(caseId)).map((event) => event.type);
  }

  /** Moves the server's clock to just after `targetMs` (time skipping), or not at all if it is past. */
  async sleepUntil(targetMs: number): Promise<void> {
    const now = await this.now();
    if (targetMs > now) await this.env.sleep(targetMs - now);
  }

  async now(): Promise<number> {
    return this.env.currentTimeMs();
  }
}
