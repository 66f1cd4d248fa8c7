import { describe, expect, it } from 'vitest';
import type { ActionTable } from '../../domain/case-actions';
import type { Actor, ActorRole } from '../../domain/actors';
import type { EffectOutcome } from '../../domain/case-definition';
import { incidentDetailsSchema } from '../../domain/case-details';
import { describeScopeQuery, incidentActions, incidentStatuses, type AlertBatch, type IncidentAlert, type IncidentMerge, type IncidentScope, type IncidentStatus } from '../../domain/incident';
import { fanoutAttempts, incidentCase, incidentOutcome, incidentRules, type FanoutTotals, type IncidentEffect, type IncidentInput, type IncidentState } from '../../domain/incident-case';
import {
  accepted,
  act,
  actorOf,
  advance,
  allRules,
  days,
  effectDone,
  hours,
  incidentInput,
  iso,
  minutes,
  only,
  openCase,
  refused,
  shanghai,
  signal,
  typesOf,
  viewOf,
  type CaseAt,
  type Stepped,
} from '../support/case-rules';

/** The table indexed by any action name, as the tests walk it. */
const actionTable: ActionTable<IncidentStatus> = incidentActions;

const caseId = 'INC-2026-000007';
const workflowId = `incident-${caseId}`;
const agent = actorOf('agent');
const supervisor = actorOf('supervisor');
const alertSource = actorOf('alert-source');
const system = { id: 'pledge', role: 'system' };
const allRoles: ActorRole[] = ['agent', 'supervisor', 'alert-source', 'auditor', 'customer', 'system'];

/** Friday 20 Nov 2026, 10:00 in Shanghai: the outage starts (and is reported) here. */
const start = shanghai('2026-11-20T10:00');
const pudong: IncidentScope = { services: ['broadband'], regions: ['shanghai-pudong'] };
const dedupKey = 'alertmanager|{}:{alertname="BroadbandDown"}';

type Incident = CaseAt<IncidentState>;
type Result = Stepped<IncidentState, IncidentEffect>;
type Effect<Kind extends IncidentEffect['kind']> = Extract<IncidentEffect, { kind: Kind }>;

/** An incident opened by staff (with a scope, SEV2) or, with `scope: null`, as an alert group opens one. */
function openIncident(options: { scope?: IncidentScope | null; startedAtMs?: number; atMs?: number; rules?: Record<string, boolean> } = {}): Result {
  const startedAtMs = options.startedAtMs ?? start;
  const base = incidentInput({ caseId, startedAtMs, scope: options.scope === undefined ? pudong : options.scope });
  const input: IncidentInput = options.scope === null ? { ...base, source: 'alertmanager', dedupKey, openedBy: alertSource } : base;
  return openCase(incidentCase, input, options.atMs ?? startedAtMs, options.rules ? { rules: options.rules } : {});
}

/** What the runtime runs for an effect, answered: the affected count for a scope. */
const counted = (count: number, query = `select id from customers -- ${count}`): EffectOutcome => ({ ok: true, result: { count, query } });

/** What the count activity answers for the scopes it was given: the count and the query that says so. */
const countedFor = (effect: { scopes: IncidentScope[] }, count: number) => counted(count, describeScopeQuery(effect.scopes));

/** A staff incident whose scope's count came back: the usual open incident. */
function scopedIncident(count = 1_200, rules?: Record<string, boolean>): Result {
  const opened = openIncident(rules ? { rules } : {});
  const counting = effectOf(opened, 'count-affected');
  return effectDone(incidentCase, opened, counting, countedFor(counting, count), opened.nowMs + 1_000);
}

function effectOf<Kind extends IncidentEffect['kind']>(result: { effects: IncidentEffect[] }, kind: Kind): Effect<Kind> {
  const found = result.effects.filter((effect): effect is Effect<Kind> => effect.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} effect, got ${found.length} among ${result.effects.map((effect) => effect.kind).join(', ')}`);
  return found[0]!;
}

const kindsOf = (result: { effects: IncidentEffect[] }) => result.effects.map((effect) => effect.kind);

/** Someone the action's table allows: an agent, or a supervisor for supervisor-only actions (dismiss). */
const allowedActor = (action: string): Actor => (actionTable[action]?.roles.includes('agent') ? agent : supervisor);

function take(incident: Incident, action: string, input: Record<string, unknown> = validInput[action]!, options: { actor?: Actor; atMs?: number; requestId?: string } = {}): Result {
  return accepted(act(incidentCase, incident, action, input, options.actor ?? allowedActor(action), options.atMs ?? incident.nowMs + minutes(10), { requestId: options.requestId }));
}

function attempt(incident: Incident, action: string, input: Record<string, unknown> = validInput[action]!, actor: Actor = allowedActor(action), atMs = incident.nowMs + minutes(1)) {
  return act(incidentCase, incident, action, input, actor, atMs);
}

const validInput: Record<string, Record<string, unknown>> = {
  classify: { severity: 'SEV1', reason: 'The whole district is down' },
  'set-scope': { services: ['broadband', 'iptv'], regions: ['shanghai-pudong'] },
  'edit-notice': { message: 'Broadband and IPTV are down in Pudong; crews are on site.' },
  'publish-notice': {},
  'post-update': { message: 'The damaged trunk is being spliced' },
  resolve: { summary: 'The trunk was spliced' },
  'submit-review': { summary: 'A digger cut the trunk', rootCause: 'Unmarked trunk route', followUps: ['Mark the route'] },
  dismiss: { reason: 'A flapping probe at the POP, not an outage' },
  merge: { into: 'INC-2026-000099', reason: 'The same fibre cut as INC-2026-000099' },
  'approve-remedies': { note: 'Checked the business lines' },
};

/** What an action needs besides its status: approve-remedies needs remedies that wait (P4). */
function ready(action: string, incident: Incident): Incident {
  if (action !== 'approve-remedies') return incident;
  const resolved = take(scopedIncident(), 'resolve');
  const totalsWithPending: FanoutTotals = { ...totals(10), remediesPending: 1, remedyPendingAmountCents: 20_000 };
  return effectDone(incidentCase, resolved, effectOf(resolved, 'fanout'), { ok: true, result: totalsWithPending }, resolved.nowMs + minutes(1));
}

const pathTo: Record<IncidentStatus, string[]> = {
  open: [],
  resolved: ['resolve'],
  closed: ['resolve', 'submit-review'],
};

function reach(status: IncidentStatus): Incident {
  const reached = pathTo[status].reduce<Incident>((incident, action) => take(incident, action), scopedIncident());
  expect(reached.state.status).toBe(status);
  return reached;
}

function alert(fingerprint: string, labels: Record<string, string>, endsAtMs?: number): IncidentAlert {
  return {
    fingerprint,
    status: endsAtMs === undefined ? 'firing' : 'resolved',
    labels,
    startsAt: iso(start),
    endsAt: endsAtMs === undefined ? null : iso(endsAtMs),
  };
}

const batch = (alerts: IncidentAlert[], receivedAtMs: number): AlertBatch => ({
  source: 'alertmanager',
  sentBy: alertSource,
  receivedAt: iso(receivedAtMs),
  groupKey: '{}:{alertname="BroadbandDown"}',
  alerts,
});
const labelsEast = { severity: 'warning', service: 'broadband', region: 'shanghai-pudong' };
const labelsWest = { severity: 'critical', service: 'broadband', region: 'shanghai-minhang' };
const labelScope: IncidentScope = { services: ['broadband'], regions: ['shanghai-minhang', 'shanghai-pudong'] };

/** An alert incident whose two alerts fire and whose label scope was counted. */
function firingIncident() {
  const opened = openIncident({ scope: null });
  const fired = signal(incidentCase, opened, batch([alert('a', labelsEast), alert('b', labelsWest)], start + minutes(1)), start + minutes(1));
  const scoped = effectDone(incidentCase, fired, effectOf(fired, 'count-affected'), counted(840), start + minutes(2));
  return { opened, fired, scoped };
}

const totals = (customers: number): FanoutTotals => ({
  customers,
  notificationsQueued: customers * 2,
  remediesPaid: customers,
  remedyAmountCents: customers * 330,
  pages: 1,
  runs: 1,
  durationMs: 4_000,
  maxRunHistoryLength: 120,
});

describe('opening an incident', () => {
  it('O1, O4, O5: staff open it with a scope: the affected users are counted first', () => {
    const opened = openIncident();
    expect(typesOf(opened)).toEqual(['incident.opened', 'incident.notice-drafted']);
    expect(only(opened, 'incident.opened')).toMatchObject({
      actor: agent,
      data: {
        source: 'manual',
        severity: 'SEV2',
        scope: pudong,
        startedAt: iso(start),
        noticeDueAt: iso(start + hours(2)),
        autoPublishAt: iso(start + minutes(105)),
        repairDueAt: iso(start + hours(48)),
        alertDelayMinutes: 0,
      },
    });
    expect(opened.effects).toEqual([{ kind: 'count-affected', scopes: [pudong], actor: agent, source: 'staff' }]);
    expect(opened.state).toMatchObject({ status: 'open', scope: pudong, scopeSource: 'staff', severity: 'SEV2', severitySource: 'staff', workflowId });
    expect(Object.keys(opened.state.clocks)).toEqual(['notice', 'repair']);
  });

  it('O6: the count comes back as `incident.scope-set`, then the outage is recorded', () => {
    const opened = openIncident();
    const scoped = effectDone(incidentCase, opened, effectOf(opened, 'count-affected'), counted(1_200, 'select 1'), start + 1_000);
    expect(typesOf(scoped)).toEqual(['incident.scope-set']);
    expect(only(scoped, 'incident.scope-set')).toMatchObject({ actor: agent, data: { scope: pudong, source: 'staff', affectedCount: 1_200, query: 'select 1' } });
    expect(scoped.effects).toEqual([
      {
        kind: 'record-outage',
        outage: { caseId, title: 'Broadband outage in the test region', severity: 'SEV2', services: ['broadband'], regions: ['shanghai-pudong'], startedAt: iso(start), endedAt: null },
      },
    ]);
    expect(scoped.state.affected).toEqual({ count: 1_200, query: 'select 1' });
  });

  it('O1, O3: an alert group opens it without a scope: SEV3 by default, the outage recorded at once', () => {
    const opened = openIncident({ scope: null });
    expect(opened.state).toMatchObject({ severity: 'SEV3', severitySource: 'default', scopeSource: 'labels', scope: { services: [], regions: [] }, dedupKey, source: 'alertmanager' });
    expect(opened.effects).toEqual([{ kind: 'record-outage', outage: expect.objectContaining({ severity: 'SEV3', services: [], regions: [], endedAt: null }) }]);
    expect(only(opened, 'incident.opened').actor).toEqual(alertSource);
  });

  it('O4: the notice counts from the outage start, not from when Pledge heard of it', () => {
    const opened = openIncident({ startedAtMs: start, atMs: start + minutes(40) });
    expect(only(opened, 'incident.opened').data).toMatchObject({ alertDelayMinutes: 40, noticeDueAt: iso(start + hours(2)) });
    expect(opened.state.clocks.notice!.dueAtMs).toBe(start + hours(2));
  });
});

describe('incident actions against the action table', () => {
  it('has a test input for every action of the table', () => {
    expect(Object.keys(validInput).sort()).toEqual(Object.keys(incidentActions).sort());
  });

  it.each(Object.keys(incidentActions))('O3–O7: %s is accepted from each status that allows it', (action) => {
    for (const status of actionTable[action]!.from) {
      const result = accepted(attempt(ready(action, reach(status)), action));
      expect(result.events.length + result.effects.length, `${action} from ${status} does something`).toBeGreaterThan(0);
    }
  });

  it.each(Object.keys(incidentActions))('O3–O7: %s is refused from every status that does not allow it', (action) => {
    const rule = actionTable[action]!;
    const notAllowed = incidentStatuses.filter((status) => !rule.from.includes(status));
    for (const status of notAllowed) {
      expect(refused(attempt(reach(status), action)), `${action} from ${status}`).toEqual({
        ok: false,
        kind: 'refused',
        message: `cannot ${action} a case that is ${status}; allowed when ${rule.from.join(' or ')}`,
      });
    }
  });

  it.each(Object.keys(incidentActions))('D6: only staff may %s (agents and supervisors; O2/P5: dismiss and merge, P4: approve-remedies, supervisors only)', (action) => {
    const incident = ready(action, reach(actionTable[action]!.from[0]!));
    const allowed: ActorRole[] = action === 'dismiss' || action === 'merge' || action === 'approve-remedies' ? ['supervisor'] : ['agent', 'supervisor'];
    expect(actionTable[action]!.roles).toEqual(allowed);
    for (const role of allRoles) {
      const result = attempt(incident, action, validInput[action], actorOf(role));
      if (allowed.includes(role)) expect(result, role).toMatchObject({ ok: true });
      else expect(result, role).toMatchObject({ ok: false, kind: 'forbidden' });
    }
  });

  it('O3: staff classify; the outage record follows the severity', () => {
    const classified = take(scopedIncident(), 'classify', { severity: 'SEV1', reason: 'Whole district' }, { actor: supervisor });
    expect(only(classified, 'incident.classified')).toMatchObject({ actor: supervisor, data: { severity: 'SEV1', previous: 'SEV2', source: 'staff', reason: 'Whole district' } });
    expect(effectOf(classified, 'record-outage').outage.severity).toBe('SEV1');
    expect(viewOf(incidentCase, classified).priority).toBe('SEV1');
    expect(refused(attempt(scopedIncident(), 'classify', { severity: 'SEV9' }))).toMatchObject({ kind: 'invalid-input', fields: [{ field: 'input.severity' }] });
  });

  it('O6: set-scope counts the new scope first; `incident.scope-set` follows the count', () => {
    const incident = scopedIncident();
    const set = take(incident, 'set-scope');
    expect(set.events).toEqual([]);
    const scope = { services: ['broadband', 'iptv'], regions: ['shanghai-pudong'] };
    expect(set.effects).toEqual([{ kind: 'count-affected', scopes: [scope], actor: agent, source: 'staff' }]);
    const done = effectDone(incidentCase, set, effectOf(set, 'count-affected'), counted(2_000), set.nowMs + 1_000);
    expect(only(done, 'incident.scope-set').data).toMatchObject({ scope, affectedCount: 2_000, source: 'staff' });
    expect(refused(attempt(incident, 'set-scope', { services: [], regions: [] }))).toMatchObject({ kind: 'invalid-input', fields: [{ field: 'input.services' }] });
  });

  it('O4: staff publish the edited notice to every affected user; a second publish, or an edit after it, is refused', () => {
    const edited = take(scopedIncident(), 'edit-notice');
    expect(only(edited, 'incident.notice-edited').data).toEqual({ message: validInput['edit-notice']!.message });
    const publishedAt = edited.nowMs + minutes(5);
    const published = take(edited, 'publish-notice', {}, { atMs: publishedAt });
    expect(typesOf(published)).toEqual(['incident.notice-published', 'sla.met']);
    expect(only(published, 'incident.notice-published')).toMatchObject({
      actor: agent,
      data: { auto: false, late: false, latenessMinutes: 0, message: validInput['edit-notice']!.message, affectedCount: 1_200 },
    });
    expect(only(published, 'sla.met').data).toEqual({ clock: 'notice', late: false });
    expect(published.effects).toEqual([
      {
        kind: 'fanout',
        request: {
          number: 1,
          kind: 'outage-notice',
          keyPrefix: `${workflowId}:notice`,
          scopes: [pudong],
          message: { title: 'Broadband outage in the test region', startedAt: iso(start), message: validInput['edit-notice']!.message },
        },
      },
    ]);
    expect(published.state.clocks.notice).toMatchObject({ state: 'met', metAtMs: publishedAt });
    const again = `the outage notice was already published at ${iso(publishedAt)}; post an update instead`;
    expect(refused(attempt(published, 'publish-notice'))).toEqual({ ok: false, kind: 'refused', message: again });
    expect(refused(attempt(published, 'edit-notice'))).toEqual({ ok: false, kind: 'refused', message: again });
    expect(viewOf(incidentCase, published).allowedActions).toEqual(['classify', 'set-scope', 'post-update', 'resolve', 'dismiss', 'merge']);
  });

  it('O5: an update without notifying users only records it and moves the next reminder', () => {
    const postedAt = start + hours(1);
    const posted = take(scopedIncident(), 'post-update', { message: 'Crews on site' }, { atMs: postedAt });
    expect(only(posted, 'incident.update-posted').data).toEqual({ message: 'Crews on site', notifyUsers: false, nextUpdateDueAt: iso(postedAt + hours(4)) });
    expect(posted.effects).toEqual([]);
    expect(posted.state.nextUpdateReminderAtMs).toBe(postedAt + hours(4));
  });

  it('O5: an update that notifies users fans out under a key from the request id, the same on a retry', () => {
    const incident = scopedIncident();
    const update = (requestId?: string) => effectOf(take(incident, 'post-update', { message: 'Crews on site', notifyUsers: true }, { requestId }), 'fanout').request;
    expect(update('idem-42')).toEqual({
      number: 1,
      kind: 'update',
      keyPrefix: `${workflowId}:update-idem-42`,
      scopes: [pudong],
      message: { title: 'Broadband outage in the test region', startedAt: iso(start), message: 'Crews on site' },
    });
    expect(update('idem-42').keyPrefix).toBe(update('idem-42').keyPrefix);
    expect(update('idem-43').keyPrefix).toBe(`${workflowId}:update-idem-43`);
    // Without a request id, the step: intake (2 events) and scope-set (1) were recorded before.
    expect(update().keyPrefix).toBe(`${workflowId}:update-4`);
  });

  it('O7: resolving records the end, starts the 5-working-day review clock and tells every affected user', () => {
    const incident = scopedIncident();
    const resolvedAt = start + hours(1);
    const resolved = take(incident, 'resolve', { summary: 'Spliced', endedAt: iso(start + minutes(50)) }, { atMs: resolvedAt });
    expect(typesOf(resolved)).toEqual(['incident.resolved', 'sla.met']);
    // Fri 20 Nov: Mon 23, Tue 24, Wed 25, Thu 26, Fri 27 → Sat 28 00:00.
    const reviewDue = shanghai('2026-11-28T00:00');
    expect(only(resolved, 'incident.resolved').data).toMatchObject({
      via: 'manual',
      summary: 'Spliced',
      endedAt: iso(start + minutes(50)),
      outageMinutes: 50,
      affectedCount: 1_200,
      reviewDueAt: iso(reviewDue),
      reviewDueProvisional: false,
    });
    // Restored before the notice went out: the recovery notice is the notice.
    expect(only(resolved, 'sla.met').data).toEqual({ clock: 'notice', late: false, byRecoveryNotice: true });
    expect(kindsOf(resolved)).toEqual(['close-alert-group', 'record-outage', 'fanout']);
    expect(effectOf(resolved, 'record-outage').outage.endedAt).toBe(iso(start + minutes(50)));
    expect(effectOf(resolved, 'fanout').request).toEqual({
      number: 1,
      kind: 'recovery',
      keyPrefix: `${workflowId}:recovery`,
      scopes: [pudong],
      message: { title: 'Broadband outage in the test region', startedAt: iso(start), endedAt: iso(start + minutes(50)), outageMinutes: 50 },
    });
    expect(resolved.state.clocks.repair).toMatchObject({ state: 'met', metAtMs: start + minutes(50) });
    expect(resolved.state.clocks.review).toMatchObject({ state: 'running', startedAtMs: resolvedAt, dueAtMs: reviewDue, workingDays: 5 });
    expect(incidentOutcome(resolved.state)).toMatchObject({ status: 'resolved', outageMinutes: 50 });
  });

  it('O7: an end before the outage started, or in the future, is refused on `input.endedAt`', () => {
    const incident = scopedIncident();
    const field = [{ field: 'input.endedAt', message: `must lie between the outage's start (${iso(start)}) and now` }];
    for (const endedAt of [start - 1, start + hours(2)]) {
      expect(refused(attempt(incident, 'resolve', { summary: 'Spliced', endedAt: iso(endedAt) }, agent, start + hours(1)))).toEqual({
        ok: false,
        kind: 'invalid-input',
        message: "invalid input for 'resolve'",
        fields: field,
      });
    }
    expect(attempt(incident, 'resolve', { summary: 'Spliced', endedAt: iso(start) }, agent, start + hours(1))).toMatchObject({ ok: true, state: { endedAtMs: start } });
  });

  it('O6: the review closes the incident and meets its clock', () => {
    const resolved = take(scopedIncident(), 'resolve');
    const reviewedAt = resolved.nowMs + days(2);
    const closed = take(resolved, 'submit-review', validInput['submit-review'], { atMs: reviewedAt });
    expect(typesOf(closed)).toEqual(['incident.review-submitted', 'incident.closed']);
    expect(only(closed, 'incident.review-submitted').data).toEqual({
      summary: 'A digger cut the trunk',
      rootCause: 'Unmarked trunk route',
      followUps: ['Mark the route'],
      dueAt: iso(resolved.state.clocks.review!.dueAtMs),
      late: false,
    });
    expect(closed.state.clocks.review).toMatchObject({ state: 'met', metAtMs: reviewedAt });
    expect(incidentCase.isClosed(closed.state)).toBe(true);
  });
});

describe('alert batches', () => {
  it('O3: the severity comes from the worst severity label; the scope from the service and region labels', () => {
    const { fired } = firingIncident();
    expect(typesOf(fired)).toEqual(['incident.alerts-received', 'incident.classified']);
    expect(only(fired, 'incident.alerts-received')).toMatchObject({
      actor: alertSource,
      data: { received: 2, changed: 2, firing: ['a', 'b'], resolved: [], totals: { total: 2, firing: 2, resolved: 0 } },
    });
    expect(only(fired, 'incident.classified').data).toEqual({ severity: 'SEV1', previous: 'SEV3', source: 'labels', reason: "from the alerts' severity label" });
    expect(kindsOf(fired)).toEqual(['record-outage', 'count-affected']);
    expect(effectOf(fired, 'count-affected')).toEqual({ kind: 'count-affected', scopes: [labelScope], actor: alertSource, source: 'labels' });
    expect(fired.state).toMatchObject({ severity: 'SEV1', severitySource: 'labels', scope: labelScope, scopeSource: 'labels', status: 'open' });
  });

  it('O6: the label scope is set once its count comes back', () => {
    const { scoped } = firingIncident();
    expect(typesOf(scoped)).toEqual(['incident.scope-set']);
    expect(only(scoped, 'incident.scope-set')).toMatchObject({ actor: alertSource, data: { scope: labelScope, source: 'labels', affectedCount: 840 } });
    expect(effectOf(scoped, 'record-outage').outage).toMatchObject({ severity: 'SEV1', services: ['broadband'], regions: ['shanghai-minhang', 'shanghai-pudong'] });
    expect(scoped.state.status).toBe('open');
  });

  it('O3: labels never override a severity or a scope staff set', () => {
    const incident = take(scopedIncident(), 'classify', { severity: 'SEV4' });
    const fired = signal(incidentCase, incident, batch([alert('a', labelsWest)], incident.nowMs + 1), incident.nowMs + 1);
    expect(typesOf(fired)).toEqual(['incident.alerts-received']);
    expect(fired.effects).toEqual([]);
    expect(fired.state).toMatchObject({ severity: 'SEV4', severitySource: 'staff', scope: pudong, scopeSource: 'staff' });
  });

  it('O7: when every alert has resolved, the incident resolves: review clock, alert group closed, outage recorded, recovery fanned out', () => {
    const { scoped } = firingIncident();
    const at = start + minutes(75);
    const resolvedBatch = batch([alert('a', labelsEast, start + minutes(50)), alert('b', labelsWest, start + minutes(70))], at);
    const resolved = signal(incidentCase, scoped, resolvedBatch, at);
    expect(typesOf(resolved)).toEqual(['incident.alerts-received', 'incident.resolved', 'sla.met']);
    expect(only(resolved, 'incident.resolved')).toMatchObject({
      actor: alertSource,
      data: { via: 'alerts', summary: 'every alert of the group resolved', endedAt: iso(start + minutes(70)), outageMinutes: 70, affectedCount: 840, reviewDueAt: iso(shanghai('2026-11-28T00:00')) },
    });
    expect(only(resolved, 'sla.met').data).toEqual({ clock: 'notice', late: false, byRecoveryNotice: true });
    expect(resolved.effects).toEqual([
      {
        kind: 'close-alert-group',
        closedAt: iso(at),
        dedupKey,
        knownAlerts: [
          { fingerprint: 'a', startsAt: iso(start) },
          { fingerprint: 'b', startsAt: iso(start) },
        ],
      },
      {
        kind: 'record-outage',
        outage: {
          caseId,
          title: 'Broadband outage in the test region',
          severity: 'SEV1',
          services: ['broadband'],
          regions: ['shanghai-minhang', 'shanghai-pudong'],
          startedAt: iso(start),
          endedAt: iso(start + minutes(70)),
        },
      },
      {
        kind: 'fanout',
        request: {
          number: 1,
          kind: 'recovery',
          keyPrefix: `${workflowId}:recovery`,
          scopes: [labelScope],
          message: { title: 'Broadband outage in the test region', startedAt: iso(start), endedAt: iso(start + minutes(70)), outageMinutes: 70 },
        },
      },
    ]);
    expect(resolved.state).toMatchObject({ status: 'resolved', endedAtMs: start + minutes(70), resolution: { via: 'alerts', by: alertSource.id } });
    expect(resolved.state.clocks.review).toMatchObject({ state: 'running', startedAtMs: at, workingDays: 5 });
    expect(resolved.state.clocks.repair).toMatchObject({ state: 'met', metAtMs: start + minutes(70) });
  });

  it('O7: one alert resolving while another fires keeps the incident open', () => {
    const { scoped } = firingIncident();
    const half = signal(incidentCase, scoped, batch([alert('a', labelsEast, start + minutes(50))], start + minutes(55)), start + minutes(55));
    expect(typesOf(half)).toEqual(['incident.alerts-received']);
    expect(half.state.status).toBe('open');
    expect(only(half, 'incident.alerts-received').data.totals).toEqual({ total: 2, firing: 1, resolved: 1 });
  });

  /** A batch with nothing new: no event, or only one recording that nothing changed. */
  const nothingNew = (result: Result) => result.events.every((entry) => entry.type.startsWith('incident.alerts-') && entry.data.changed === 0);

  it('O2: a stale firing re-send never undoes a resolution, of an alert or of the incident', () => {
    const { scoped } = firingIncident();
    const half = signal(incidentCase, scoped, batch([alert('a', labelsEast, start + minutes(50))], start + minutes(55)), start + minutes(55));
    const staleWhileOpen = signal(incidentCase, half, batch([alert('a', labelsEast)], start + minutes(56)), start + minutes(56));
    expect(nothingNew(staleWhileOpen)).toBe(true);
    expect(staleWhileOpen.state.alerts[`a|${iso(start)}`]).toMatchObject({ status: 'resolved', endsAt: iso(start + minutes(50)) });
    expect(staleWhileOpen.state.status).toBe('open');

    const resolved = signal(incidentCase, staleWhileOpen, batch([alert('b', labelsWest, start + minutes(70))], start + minutes(75)), start + minutes(75));
    expect(resolved.state.status).toBe('resolved');
    const stale = signal(incidentCase, resolved, batch([alert('a', labelsEast), alert('b', labelsWest)], start + minutes(80)), start + minutes(80));
    expect(nothingNew(stale)).toBe(true);
    expect(stale.effects).toEqual([]);
    expect(Object.values(stale.state.alerts).map((entry) => entry.status)).toEqual(['resolved', 'resolved']);
    expect(stale.state).toMatchObject({ status: 'resolved', endedAtMs: start + minutes(70) });
  });

  it('O7: when the last alerts resolve with a new scope, the resolution waits for its count so the recovery reaches it', () => {
    const opened = openIncident({ scope: null });
    const fired = signal(incidentCase, opened, batch([alert('a', { severity: 'critical' })], start + minutes(1)), start + minutes(1));
    expect(kindsOf(fired)).toEqual(['record-outage']);
    const ended = signal(
      incidentCase,
      fired,
      batch([alert('a', { severity: 'critical', service: 'broadband', region: 'shanghai-pudong' }, start + minutes(30))], start + minutes(31)),
      start + minutes(31),
    );
    expect(ended.state.status).toBe('open');
    expect(kindsOf(ended)).toEqual(['count-affected']);
    const done = effectDone(incidentCase, ended, effectOf(ended, 'count-affected'), counted(99), start + minutes(32));
    expect(typesOf(done)).toEqual(['incident.scope-set', 'incident.resolved', 'sla.met']);
    expect(effectOf({ effects: done.effects.filter((effect) => effect.kind === 'fanout') }, 'fanout').request).toMatchObject({ kind: 'recovery', scopes: [pudong] });
    expect(done.state).toMatchObject({ status: 'resolved', endedAtMs: start + minutes(30) });
  });
});

describe('the notice and the reminders', () => {
  it('O4: nobody published: Pledge publishes the draft itself at start + 105 minutes, not earlier', () => {
    const incident = scopedIncident();
    const autoAt = start + minutes(105);
    expect(incidentCase.nextWakeAtMs!(incident.state)).toBe(autoAt);
    const before = advance(incidentCase, incident, autoAt - 1);
    expect(typesOf(before)).toEqual(['sla.warned']); // the notice clock at 80 %, start + 96 min
    expect(only(before, 'sla.warned').data).toEqual({ clock: 'notice', at: iso(start + minutes(96)) });
    expect(before.state.notice.publishedAtMs).toBeUndefined();
    const published = advance(incidentCase, before, autoAt);
    expect(typesOf(published)).toEqual(['incident.notice-published', 'sla.met']);
    expect(only(published, 'incident.notice-published')).toMatchObject({ actor: system, occurredAt: iso(autoAt), data: { auto: true, late: false, latenessMinutes: 0 } });
    expect(effectOf(published, 'fanout').request).toMatchObject({ kind: 'outage-notice', keyPrefix: `${workflowId}:notice`, scopes: [pudong] });
    expect(published.state.notice).toMatchObject({ publishedAtMs: autoAt, publishedBy: 'pledge', auto: true });
    expect(viewOf(incidentCase, published).details.notice).toMatchObject({ auto: true, late: false, publishedAt: iso(autoAt) });
  });

  it('O4: heard of after the deadline: the notice goes out at once, recorded late', () => {
    const heardAt = start + hours(2) + minutes(10);
    const incident = openIncident({ startedAtMs: start, atMs: heardAt });
    const result = advance(incidentCase, incident, heardAt);
    expect(typesOf(result)).toEqual(['sla.warned', 'sla.breached', 'incident.notice-published', 'sla.met']);
    expect(only(result, 'incident.notice-published')).toMatchObject({ occurredAt: iso(heardAt), data: { auto: true, late: true, latenessMinutes: 10, alertDelayMinutes: 130 } });
    expect(only(result, 'sla.breached').staffNotifications).toMatchObject([{ role: 'supervisor', kind: 'notice-breached' }]);
  });

  it('O5: while open, a reminder to post an update every 4 hours without one', () => {
    const incident = take(scopedIncident(), 'publish-notice', {}, { atMs: start + minutes(30) });
    const eightHours = advance(incidentCase, incident, start + hours(8));
    const reminders = eightHours.events.filter((entry) => entry.type === 'incident.update-reminder');
    expect(reminders.map((entry) => entry.occurredAt)).toEqual([iso(start + hours(4)), iso(start + hours(8))]);
    expect(reminders[0]!.data).toEqual({ at: iso(start + hours(4)), lastUpdateAt: null });
    expect(reminders[0]!.staffNotifications).toMatchObject([
      { role: 'agent', kind: 'update-reminder', deliverAfter: iso(start + hours(4)), idempotencyKey: `${workflowId}:staff:update-reminder:${start + hours(4)}` },
    ]);
    // An update at 9 h moves the next reminder to 13 h.
    const posted = take(eightHours, 'post-update', { message: 'Splicing' }, { atMs: start + hours(9) });
    const later = advance(incidentCase, posted, start + hours(13) - 1);
    expect(later.events.filter((entry) => entry.type === 'incident.update-reminder')).toEqual([]);
    const due = advance(incidentCase, later, start + hours(13));
    expect(only(due, 'incident.update-reminder').data).toEqual({ at: iso(start + hours(13)), lastUpdateAt: iso(start + hours(9)) });
  });

  it('O5: the repair deadline breached at 48 hours escalates to supervisors', () => {
    const incident = take(scopedIncident(), 'publish-notice', {}, { atMs: start + minutes(30) });
    const result = advance(incidentCase, incident, start + hours(48));
    const breached = only(result, 'sla.breached');
    expect(breached).toMatchObject({ occurredAt: iso(start + hours(48)), data: { clock: 'repair', dueAt: iso(start + hours(48)), escalatedTo: 'supervisor' } });
    expect(breached.staffNotifications).toMatchObject([{ role: 'supervisor', kind: 'repair-breached' }]);
    expect(result.state.slaBreached).toBe(true);
  });

  it('O6: while the review is pending, a daily reminder until it is due', () => {
    const resolvedAt = start + hours(1);
    const resolved = take(scopedIncident(), 'resolve', validInput.resolve, { atMs: resolvedAt });
    const result = advance(incidentCase, resolved, resolvedAt + days(3));
    const reminders = result.events.filter((entry) => entry.type === 'incident.review-reminder');
    expect(reminders.map((entry) => entry.occurredAt)).toEqual([1, 2, 3].map((day) => iso(resolvedAt + days(day))));
    expect(reminders[0]!.data).toEqual({ at: iso(resolvedAt + days(1)), dueAt: iso(shanghai('2026-11-28T00:00')) });
  });
});

describe('fan-out outcomes', () => {
  const published = () => take(scopedIncident(), 'publish-notice', {}, { atMs: start + minutes(30) });
  const failure = (attempt: number, retryable: boolean): EffectOutcome => ({ ok: false, retryable, attempt, message: 'notification queue unavailable' });

  it('O4, O7: a fan-out that fails for good is recorded and escalated to a supervisor, not retried', () => {
    const incident = published();
    const failedAt = incident.nowMs + minutes(3);
    const failed = effectDone(incidentCase, incident, effectOf(incident, 'fanout'), failure(1, false), failedAt);
    expect(typesOf(failed)).toEqual(['incident.fanout-failed']);
    const recorded = only(failed, 'incident.fanout-failed');
    expect(recorded.data).toEqual({ number: 1, kind: 'outage-notice', attempt: 1, error: 'notification queue unavailable', retrying: false });
    expect(recorded.staffNotifications).toEqual([
      {
        idempotencyKey: `${workflowId}:staff:fanout-1-failed-1:${failedAt}`,
        role: 'supervisor',
        kind: 'fanout-1-failed-1',
        subject: `${caseId} · outage-notice fan-out failed`,
        body: 'Broadband outage in the test region\n\nFan-out 1 (outage-notice) failed on attempt 1: notification queue unavailable. It is not retried: fix the cause and tell the affected users by hand.',
        occurredAt: iso(failedAt),
        deliverAfter: iso(failedAt),
      },
    ]);
    expect(failed.state.fanoutFailures).toEqual([{ number: 1, kind: 'outage-notice', attempt: 1, error: 'notification queue unavailable', retrying: false }]);
  });

  it('O4, O7: a retryable failure says it is retried until the last attempt', () => {
    const incident = published();
    const fanout = effectOf(incident, 'fanout');
    const first = effectDone(incidentCase, incident, fanout, failure(1, true), incident.nowMs + minutes(1));
    expect(only(first, 'incident.fanout-failed').data).toMatchObject({ attempt: 1, retrying: true });
    expect(only(first, 'incident.fanout-failed').staffNotifications![0]!.body).toContain('It will be retried.');
    const last = effectDone(incidentCase, first, fanout, failure(fanoutAttempts, true), first.nowMs + minutes(10));
    expect(only(last, 'incident.fanout-failed').data).toMatchObject({ attempt: fanoutAttempts, retrying: false });
    expect(last.state.fanoutFailures.map((entry) => entry.retrying)).toEqual([true, false]);
  });

  it('O7, O8: a delivered recovery records the users told and the remedies paid', () => {
    const resolved = take(scopedIncident(), 'resolve');
    const delivered = effectDone(incidentCase, resolved, effectOf(resolved, 'fanout'), { ok: true, result: totals(1_200) }, resolved.nowMs + minutes(5));
    expect(only(delivered, 'incident.recovery-delivered').data).toMatchObject({
      kind: 'recovery',
      customers: 1_200,
      remediesPaid: 1_200,
      remedyAmountCents: 396_000,
      compensationPolicyVersion: 'compensation/2026.1',
    });
    expect(delivered.state.recovery).toEqual({ customers: 1_200, notificationsQueued: 2_400, remediesPaid: 1_200, remedyAmountCents: 396_000, completedAt: iso(delivered.nowMs) });
    expect(incidentOutcome(delivered.state).remediesPaid).toBe(1_200);
  });
});

describe('O4: "told" means someone was told (rule o4-told-means-told)', () => {
  const toldMeansTold = allRules(incidentCase, [incidentRules.toldMeansTold]);
  const autoAt = start + minutes(105);
  const nobodyMessage = 'nobody is in the scope yet, so the notice would reach nobody; set the scope (set-scope) and it is published at once if it is due';

  it('O4: open() keeps the later rules the runtime gave the case; a case from an old history has none', () => {
    expect(incidentCase.laterRules).toEqual(['o4-told-means-told', 'review-reminders-after-breach', 'p4-remedy-approval']);
    expect(openIncident({ rules: allRules(incidentCase) }).state.rules).toEqual({ 'o4-told-means-told': true, 'review-reminders-after-breach': true, 'p4-remedy-approval': true });
    expect(openIncident().state.rules).toBeUndefined();
  });

  it('O4 (rule on): an auto-publish to an empty scope does not meet the notice clock: held, supervisors escalated once, breached at 2 h', () => {
    const held = advance(incidentCase, openIncident({ scope: null, rules: toldMeansTold }), autoAt);
    expect(typesOf(held)).toEqual(['sla.warned', 'incident.notice-held']);
    const holding = only(held, 'incident.notice-held');
    expect(holding).toMatchObject({
      actor: system,
      occurredAt: iso(autoAt),
      data: { reason: 'empty-scope', scope: { services: [], regions: [] }, affectedCount: 0, dueAt: iso(start + hours(2)), escalatedTo: 'supervisor' },
    });
    expect(holding.staffNotifications).toMatchObject([
      { role: 'supervisor', kind: 'notice-held', subject: `${caseId} · outage notice reaches nobody: set the scope`, idempotencyKey: `${workflowId}:staff:notice-held:${autoAt}` },
    ]);
    expect(holding.staffNotifications![0]!.body).toContain(`POST /v1/cases/${caseId}/actions/set-scope`);
    expect(held.effects).toEqual([]);
    expect(held.state.notice.publishedAtMs).toBeUndefined();
    expect(held.state.clocks.notice!.state).toBe('running');
    const view = viewOf(incidentCase, held);
    expect(view.details.notice).toMatchObject({ publishedAt: null, auto: null, late: null });
    expect(view.nextStep).toBe('Ops set the scope (set-scope): the outage notice reaches nobody yet');
    expect(view.allowedActions).toContain('publish-notice');
    // No timer retries the auto-publish (a scope's count does): the type's next wake-up is the update reminder.
    expect(incidentCase.nextWakeAtMs!(held.state)).toBe(start + hours(4));

    const later = advance(incidentCase, held, start + hours(6));
    expect(typesOf(later)).toEqual(['sla.breached', 'incident.update-reminder']);
    expect(only(later, 'sla.breached')).toMatchObject({ occurredAt: iso(start + hours(2)), data: { clock: 'notice', escalatedTo: 'supervisor' } });
    expect(later.state.notice.publishedAtMs).toBeUndefined();
    expect(later.state).toMatchObject({ slaBreached: true, clocks: { notice: { state: 'breached' } } });
  });

  it('O4 (rule on): users added by set-scope after the deadline get the held notice at once, recorded late by 10 min', () => {
    const held = advance(incidentCase, openIncident({ scope: null, rules: toldMeansTold }), start + hours(2) + minutes(5));
    const setAt = start + hours(2) + minutes(10);
    const set = take(held, 'set-scope', { services: ['broadband'], regions: ['shanghai-pudong'] }, { atMs: setAt });
    expect(set.events).toEqual([]);
    const done = effectDone(incidentCase, set, effectOf(set, 'count-affected'), counted(4), setAt);
    expect(typesOf(done)).toEqual(['incident.scope-set', 'incident.notice-published', 'sla.met']);
    expect(only(done, 'incident.notice-published')).toMatchObject({
      actor: system,
      occurredAt: iso(setAt),
      data: { auto: true, late: true, latenessMinutes: 10, dueAt: iso(start + hours(2)), affectedCount: 4 },
    });
    expect(only(done, 'sla.met').data).toEqual({ clock: 'notice', late: true });
    expect(kindsOf(done)).toEqual(['record-outage', 'fanout']);
    expect(effectOf(done, 'fanout').request).toMatchObject({ number: 1, kind: 'outage-notice', keyPrefix: `${workflowId}:notice`, scopes: [pudong] });
    expect(done.state.clocks.notice).toMatchObject({ state: 'breached', metAtMs: setAt });
    expect(viewOf(incidentCase, done).details.notice).toMatchObject({ publishedAt: iso(setAt), publishedBy: 'pledge', auto: true, late: true, latenessMinutes: 10 });
    expect(viewOf(incidentCase, done).nextStep).toBe('Ops repair the outage and post updates');
  });

  it('O4 (rule on): a label scope with nobody in it holds the notice too; alerts that widen it to users publish it at once', () => {
    const opened = openIncident({ scope: null, rules: toldMeansTold });
    const fired = signal(incidentCase, opened, batch([alert('a', labelsEast)], start + minutes(1)), start + minutes(1));
    const counting = effectOf(fired, 'count-affected');
    const empty = effectDone(incidentCase, fired, counting, countedFor(counting, 0), start + minutes(2));
    const held = advance(incidentCase, empty, autoAt);
    expect(only(held, 'incident.notice-held').data).toMatchObject({ reason: 'nobody-in-scope', scope: pudong, affectedCount: 0, query: describeScopeQuery([pudong]) });
    const widenedAt = autoAt + minutes(5);
    const widened = signal(incidentCase, held, batch([alert('b', labelsWest)], widenedAt), widenedAt);
    const scoped = effectDone(incidentCase, widened, effectOf(widened, 'count-affected'), counted(840), widenedAt);
    expect(typesOf(scoped)).toEqual(['incident.scope-set', 'incident.notice-published', 'sla.met']);
    expect(only(scoped, 'incident.notice-published').data).toMatchObject({ auto: true, late: false, latenessMinutes: 0, affectedCount: 840 });
    expect(effectOf(scoped, 'fanout').request.scopes).toEqual([labelScope]);
  });

  it('O4 (rule on): a scope counted before the auto-publish is due publishes nothing by itself; the draft goes out at 1 h 45 min as before', () => {
    const set = take(openIncident({ scope: null, rules: toldMeansTold }), 'set-scope', { services: ['broadband'], regions: ['shanghai-pudong'] }, { atMs: start + minutes(30) });
    const done = effectDone(incidentCase, set, effectOf(set, 'count-affected'), counted(4), start + minutes(30));
    expect(typesOf(done)).toEqual(['incident.scope-set']);
    const published = advance(incidentCase, done, autoAt);
    expect(typesOf(published)).toEqual(['sla.warned', 'incident.notice-published', 'sla.met']);
    expect(only(published, 'incident.notice-published').data).toMatchObject({ auto: true, late: false, affectedCount: 4 });
  });

  it('O4 (rule on): staff cannot publish a notice that reaches nobody; with users in scope they can', () => {
    expect(refused(attempt(openIncident({ scope: null, rules: toldMeansTold }), 'publish-notice'))).toEqual({ ok: false, kind: 'refused', message: nobodyMessage });
    expect(refused(attempt(scopedIncident(0, toldMeansTold), 'publish-notice'))).toEqual({ ok: false, kind: 'refused', message: nobodyMessage });
    expect(typesOf(take(scopedIncident(1_200, toldMeansTold), 'publish-notice'))).toEqual(['incident.notice-published', 'sla.met']);
  });

  it('O4 (rule on): a scope whose count is still on its way is no proof of nobody: the validator lets publish-notice through, the re-check on its turn decides', () => {
    // The update validator runs at once, before the opening's count comes back; the action waits its turn.
    const opened = openIncident({ rules: toldMeansTold });
    expect(attempt(opened, 'publish-notice', {}, agent, opened.nowMs)).toMatchObject({ ok: true });
    const counting = effectOf(opened, 'count-affected');
    const nobody = effectDone(incidentCase, opened, counting, countedFor(counting, 0), opened.nowMs + 1_000);
    expect(refused(attempt(nobody, 'publish-notice'))).toEqual({ ok: false, kind: 'refused', message: nobodyMessage });
    // A count that failed proves nothing either: publishing stays possible.
    const failed = effectDone(incidentCase, opened, counting, { ok: false, message: 'Postgres away', retryable: true, attempt: 1 }, opened.nowMs + 1_000);
    expect(attempt(failed, 'publish-notice')).toMatchObject({ ok: true });
  });

  it.each([
    ['no later rule', undefined],
    ['only the review rule', allRules(incidentCase, [incidentRules.reviewRemindersAfterBreach])],
  ])('O4 (rule off, %s: an incident opened before the rule): an auto-publish to an empty scope still publishes and meets the clock', (_, rules) => {
    const opened = openIncident({ scope: null, ...(rules ? { rules } : {}) });
    const published = advance(incidentCase, opened, autoAt);
    expect(typesOf(published)).toEqual(['sla.warned', 'incident.notice-published', 'sla.met']);
    expect(only(published, 'incident.notice-published').data).toMatchObject({ auto: true, late: false, affectedCount: 0 });
    expect(published.state.clocks.notice!.state).toBe('met');
    expect(published.state.notice.heldAtMs).toBeUndefined();
    expect(attempt(opened, 'publish-notice')).toMatchObject({ ok: true });
    // A scope set later re-sends the published notice to the new scope, as before.
    const set = take(published, 'set-scope', { services: ['broadband'], regions: ['shanghai-pudong'] }, { atMs: autoAt + minutes(30) });
    const done = effectDone(incidentCase, set, effectOf(set, 'count-affected'), counted(4), autoAt + minutes(30));
    expect(typesOf(done)).toEqual(['incident.scope-set']);
    expect(effectOf(done, 'fanout').request).toMatchObject({ kind: 'outage-notice', keyPrefix: `${workflowId}:notice` });
  });
});

describe('C14: incidents waiting for their review keep reminding (rule review-reminders-after-breach)', () => {
  const resolvedAt = start + hours(1);
  // Fri 20 Nov: Mon 23, Tue 24, Wed 25, Thu 26, Fri 27 → Sat 28 00:00.
  const reviewDue = shanghai('2026-11-28T00:00');
  const resolvedWith = (rules?: Record<string, boolean>) => take(scopedIncident(1_200, rules), 'resolve', validInput.resolve, { atMs: resolvedAt });
  const remindersOf = (result: Result) => result.events.filter((entry) => entry.type === 'incident.review-reminder');

  it('C14 (rule on): after the review breach a reminder every day until it is submitted, escalated to supervisors', () => {
    const resolved = resolvedWith(allRules(incidentCase, [incidentRules.reviewRemindersAfterBreach]));
    const tenDays = advance(incidentCase, resolved, resolvedAt + days(10));
    const reminders = remindersOf(tenDays);
    expect(reminders.map((entry) => entry.occurredAt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((day) => iso(resolvedAt + days(day))));
    const beforeDue = reminders.slice(0, 7);
    const overdue = reminders.slice(7);
    expect(beforeDue.every((entry) => entry.staffNotifications![0]!.role === 'agent' && entry.data.overdue === undefined)).toBe(true);
    expect(overdue.map((entry) => entry.staffNotifications![0]!.role)).toEqual(['supervisor', 'supervisor', 'supervisor']);
    expect(overdue[0]!.data).toEqual({ at: iso(resolvedAt + days(8)), dueAt: iso(reviewDue), overdue: true, overdueMinutes: 11 * 60, escalatedTo: 'supervisor' });
    expect(overdue[0]!.staffNotifications).toMatchObject([
      {
        role: 'supervisor',
        kind: 'review-overdue',
        subject: `${caseId} · post-incident review OVERDUE`,
        idempotencyKey: `${workflowId}:staff:review-overdue:${resolvedAt + days(8)}`,
        deliverAfter: iso(resolvedAt + days(8)),
      },
    ]);
    expect(overdue[0]!.staffNotifications![0]!.body).toContain('is 11 h overdue');
    expect(overdue[2]!.staffNotifications![0]!.body).toContain('is 2 d 11 h overdue');
    expect(only(tenDays, 'sla.breached')).toMatchObject({ occurredAt: iso(reviewDue), data: { clock: 'review' } });
    expect(incidentCase.nextWakeAtMs!(tenDays.state)).toBe(resolvedAt + days(11));

    // Submitted: the reminders stop.
    const closed = take(tenDays, 'submit-review', validInput['submit-review'], { atMs: resolvedAt + days(10) + hours(1) });
    expect(only(closed, 'incident.review-submitted').data).toMatchObject({ late: true });
    expect(incidentCase.nextWakeAtMs!(closed.state)).toBeUndefined();
  });

  it.each([
    ['no later rule', undefined],
    ['only the O4 rule', allRules(incidentCase, [incidentRules.toldMeansTold])],
  ])('C14 (rule off, %s: an incident opened before the rule): the reminders stop at the due time, as before', (_, rules) => {
    const resolved = resolvedWith(rules);
    const tenDays = advance(incidentCase, resolved, resolvedAt + days(10));
    const reminders = remindersOf(tenDays);
    expect(reminders.map((entry) => entry.occurredAt)).toEqual([1, 2, 3, 4, 5, 6, 7].map((day) => iso(resolvedAt + days(day))));
    expect(reminders.every((entry) => entry.staffNotifications![0]!.role === 'agent')).toBe(true);
    expect(reminders.at(-1)!.data).toEqual({ at: iso(resolvedAt + days(7)), dueAt: iso(reviewDue) });
    expect(incidentCase.nextWakeAtMs!(tenDays.state)).toBeUndefined();
  });
});

describe('O2/P5: dismissing a false alarm', () => {
  const dismissal = { reason: 'A flapping probe at the POP, not an outage' };
  const title = 'Broadband outage in the test region';

  it('O2/P5: dismiss is for supervisors only, needs a reason, and is taken only while open', () => {
    const incident = scopedIncident();
    expect(refused(attempt(incident, 'dismiss', dismissal, agent))).toMatchObject({ kind: 'forbidden' });
    expect(refused(attempt(incident, 'dismiss', {}, supervisor))).toMatchObject({ kind: 'invalid-input', fields: [{ field: 'input.reason' }] });
    expect(refused(attempt(incident, 'dismiss', { reason: '   ' }, supervisor))).toMatchObject({ kind: 'invalid-input', fields: [{ field: 'input.reason' }] });
    expect(refused(attempt(reach('resolved'), 'dismiss', dismissal, supervisor))).toMatchObject({ kind: 'refused' });
    // A new action: no rule flag needed, a case from an old history may be dismissed too.
    expect(incident.state.rules).toBeUndefined();
    expect(attempt(incident, 'dismiss', dismissal, supervisor)).toMatchObject({ ok: true });
  });

  it('O2/P5: dismissed before anyone was told: closed with the reason, clocks cancelled, no recovery, no remedies, no correction', () => {
    const at = start + minutes(40);
    const dismissed = take(scopedIncident(), 'dismiss', dismissal, { actor: supervisor, atMs: at });
    expect(typesOf(dismissed)).toEqual(['incident.dismissed', 'sla.cancelled', 'incident.closed']);
    expect(only(dismissed, 'incident.dismissed')).toMatchObject({
      actor: supervisor,
      occurredAt: iso(at),
      data: { reason: dismissal.reason, noticePublishedAt: null, usersTold: false, correction: null, cancelledClocks: ['notice', 'repair'] },
    });
    expect(only(dismissed, 'sla.cancelled').data).toEqual({ clocks: ['notice', 'repair'], outcome: 'dismissed' });
    expect(only(dismissed, 'incident.closed').data).toEqual({ via: 'dismiss' });
    expect(dismissed.effects).toEqual([
      { kind: 'close-alert-group', closedAt: iso(at), dedupKey: null, knownAlerts: [] },
      // O9: a false alarm took nothing down: zero length.
      { kind: 'record-outage', outage: { caseId, title, severity: 'SEV2', services: ['broadband'], regions: ['shanghai-pudong'], startedAt: iso(start), endedAt: iso(start) } },
    ]);
    expect(incidentCase.isClosed(dismissed.state)).toBe(true);
    expect(dismissed.state.dismissal).toEqual({ reason: dismissal.reason, by: supervisor.id, atMs: at, correction: false });
    const view = viewOf(incidentCase, dismissed);
    expect(view).toMatchObject({ status: 'closed', nextStep: null, allowedActions: [], expectedCompletionAt: null, slaBreached: false });
    expect(view.deadlines.map((deadline) => [deadline.name, deadline.state])).toEqual([
      ['notice', 'cancelled'],
      ['repair', 'cancelled'],
    ]);
    expect(incidentOutcome(dismissed.state)).toEqual({ caseId, status: 'closed', slaBreached: false, outageMinutes: null, remediesPaid: 0 });
    expect(incidentCase.nextWakeAtMs!(dismissed.state)).toBeUndefined();
  });

  it('O2/P5: dismissed after the notice went out: a correction to the users who were told; the notice clock stays met', () => {
    const published = take(scopedIncident(), 'publish-notice', {}, { atMs: start + minutes(30) });
    const at = start + minutes(50);
    const dismissed = take(published, 'dismiss', { ...dismissal, message: 'Our monitoring misread a probe.' }, { actor: supervisor, atMs: at });
    expect(typesOf(dismissed)).toEqual(['incident.dismissed', 'sla.cancelled', 'incident.closed']);
    expect(only(dismissed, 'incident.dismissed').data).toEqual({
      reason: dismissal.reason,
      noticePublishedAt: iso(start + minutes(30)),
      usersTold: true,
      correction: { scopes: [pudong], message: 'Our monitoring misread a probe.' },
      cancelledClocks: ['repair'],
    });
    expect(kindsOf(dismissed)).toEqual(['close-alert-group', 'record-outage', 'fanout']);
    expect(effectOf(dismissed, 'fanout').request).toEqual({
      number: 2,
      kind: 'correction',
      keyPrefix: `${workflowId}:correction`,
      scopes: [pudong],
      message: { title, startedAt: iso(start), message: 'Our monitoring misread a probe.' },
    });
    expect(dismissed.state.clocks).toMatchObject({ notice: { state: 'met' }, repair: { state: 'cancelled' } });
    // The correction's totals come back after the incident closed: recorded in the timeline.
    const result: FanoutTotals = { ...totals(1_200), remediesPaid: 0, remedyAmountCents: 0 };
    const delivered = effectDone(incidentCase, dismissed, effectOf(dismissed, 'fanout'), { ok: true, result }, at + minutes(2));
    expect(only(delivered, 'incident.fanout-delivered').data).toMatchObject({ kind: 'correction', customers: 1_200, remediesPaid: 0 });
    expect(delivered.state.recovery).toMatchObject({ remediesPaid: 0, completedAt: null });
    expect(viewOf(incidentCase, delivered).details.fanouts).toEqual([{ kind: 'correction', ...result }]);
  });

  it('O2/P5: an update that told users is corrected too; an update that told nobody is not', () => {
    const silent = take(scopedIncident(), 'post-update', { message: 'Checking the probe' });
    expect(kindsOf(take(silent, 'dismiss', dismissal, { actor: supervisor }))).toEqual(['close-alert-group', 'record-outage']);
    const told = take(scopedIncident(), 'post-update', { message: 'Crews on site', notifyUsers: true });
    expect(effectOf(take(told, 'dismiss', dismissal, { actor: supervisor }), 'fanout').request).toMatchObject({ kind: 'correction', scopes: [pudong], message: { message: '' } });
  });

  it('O2/P5: a notice held for want of users (O4 rule on) told nobody: no correction', () => {
    const held = advance(incidentCase, openIncident({ scope: null, rules: allRules(incidentCase) }), start + minutes(110));
    expect(typesOf(held)).toContain('incident.notice-held');
    const dismissed = take(held, 'dismiss', dismissal, { actor: supervisor });
    expect(only(dismissed, 'incident.dismissed').data).toMatchObject({ usersTold: false, correction: null, cancelledClocks: ['notice', 'repair'] });
    expect(kindsOf(dismissed)).toEqual(['close-alert-group', 'record-outage']);
  });

  it('O2: a dismissed alert incident releases its alert group (the next outage opens a new incident) and counts no downtime', () => {
    const { scoped } = firingIncident();
    const at = start + minutes(20);
    const dismissed = take(scoped, 'dismiss', dismissal, { actor: supervisor, atMs: at });
    expect(effectOf(dismissed, 'close-alert-group')).toEqual({
      kind: 'close-alert-group',
      closedAt: iso(at),
      dedupKey,
      knownAlerts: [
        { fingerprint: 'a', startsAt: iso(start) },
        { fingerprint: 'b', startsAt: iso(start) },
      ],
    });
    expect(effectOf(dismissed, 'record-outage').outage).toMatchObject({ startedAt: iso(start), endedAt: iso(start), regions: ['shanghai-minhang', 'shanghai-pudong'] });
    // A late re-send after the dismissal changes nothing.
    const late = signal(incidentCase, dismissed, batch([alert('a', labelsEast, start + minutes(25))], start + minutes(30)), start + minutes(30));
    expect(typesOf(late)).toEqual(['incident.alerts-after-resolution']);
    expect(late.effects).toEqual([]);
    expect(late.state.status).toBe('closed');
  });
});

describe('O2/P5: merging one incident into another', () => {
  const targetId = 'INC-2026-000099';
  const targetWorkflowId = `incident-${targetId}`;
  const title = 'Broadband outage in the test region';
  const reason = 'The same fibre cut as INC-2026-000099';
  const merging = { into: targetId, reason };
  const minhang: IncidentScope = { services: ['broadband'], regions: ['shanghai-minhang'] };
  const union: IncidentScope = { services: ['broadband'], regions: ['shanghai-minhang', 'shanghai-pudong'] };
  const prefixesOf = (id: string) => [`incident-${id}:notice:`, `incident-${id}:update-`];

  /** The target: staff opened it 30 min after the absorbed one started, for Minhang; its count came back. */
  function targetIncident(): Result {
    const startedAtMs = start + minutes(30);
    const opened = openCase(incidentCase, incidentInput({ caseId: targetId, startedAtMs, scope: minhang }), startedAtMs);
    const counting = effectOf(opened, 'count-affected');
    return effectDone(incidentCase, opened, counting, countedFor(counting, 500), startedAtMs + 1_000);
  }

  /** The absorbed incident (Pudong) with its notice published and an update that told users, merged at start + 50 min. */
  function absorbedAfterNotice(): Result {
    const published = take(scopedIncident(), 'publish-notice', {}, { atMs: start + minutes(30) });
    const updated = take(published, 'post-update', { message: 'Crews on site', notifyUsers: true }, { requestId: 'upd-1', atMs: start + minutes(40) });
    return take(updated, 'merge', merging, { actor: supervisor, atMs: start + minutes(50) });
  }

  const mergeOf = (merged: Result): IncidentMerge => effectOf(merged, 'merge-into').merge;

  /** The target with its notice published at start + 40 min, then the merge (and, unless told otherwise, the wider scope's count). */
  function targetAfterMerge(options: { count?: boolean } = {}) {
    const published = take(targetIncident(), 'publish-notice', {}, { atMs: start + minutes(40) });
    const absorbed = signal(incidentCase, published, mergeOf(absorbedAfterNotice()), start + minutes(60));
    if (options.count === false) return { published, absorbed, counted: absorbed };
    const counting = effectOf(absorbed, 'count-affected');
    return { published, absorbed, counted: effectDone(incidentCase, absorbed, counting, countedFor(counting, 1_700), start + minutes(61)) };
  }

  it('O2/P5: merge is for supervisors only, needs an incident to merge into and a reason, never into itself, and only while open', () => {
    const incident = scopedIncident();
    expect(refused(attempt(incident, 'merge', merging, agent))).toMatchObject({ kind: 'forbidden' });
    expect(refused(attempt(incident, 'merge', { reason }, supervisor))).toMatchObject({ kind: 'invalid-input', fields: [{ field: 'input.into' }] });
    expect(refused(attempt(incident, 'merge', { into: 'CMP-2026-000001', reason }, supervisor))).toMatchObject({ kind: 'invalid-input', fields: [{ field: 'input.into' }] });
    expect(refused(attempt(incident, 'merge', { into: targetId }, supervisor))).toMatchObject({ kind: 'invalid-input', fields: [{ field: 'input.reason' }] });
    expect(refused(attempt(incident, 'merge', { into: caseId, reason }, supervisor))).toEqual({
      ok: false,
      kind: 'invalid-input',
      message: "invalid input for 'merge'",
      fields: [{ field: 'input.into', message: 'an incident cannot be merged into itself' }],
    });
    expect(refused(attempt(reach('resolved'), 'merge', merging, supervisor))).toMatchObject({ kind: 'refused' });
    // A new action: no rule flag needed, a case from an old history may be merged too.
    expect(incident.state.rules).toBeUndefined();
    expect(attempt(incident, 'merge', merging, supervisor)).toMatchObject({ ok: true });
  });

  it('O2/P5: the absorbed incident closes without resolving: clocks cancelled, merged-into then closed, no recovery, no remedies; the target is told after its own fan-outs', () => {
    const merged = absorbedAfterNotice();
    const at = start + minutes(50);
    expect(typesOf(merged)).toEqual(['incident.merged-into', 'sla.cancelled', 'incident.closed']);
    expect(only(merged, 'incident.merged-into')).toMatchObject({
      actor: supervisor,
      occurredAt: iso(at),
      data: {
        into: targetId,
        reason,
        alerts: { total: 0, firing: 0, resolved: 0 },
        scope: pudong,
        noticedScopes: [pudong],
        notifiedUnder: prefixesOf(caseId),
        noticePublishedAt: iso(start + minutes(30)),
        cancelledClocks: ['repair'],
      },
    });
    expect(only(merged, 'sla.cancelled').data).toEqual({ clocks: ['repair'], outcome: 'merged' });
    expect(only(merged, 'incident.closed').data).toEqual({ via: 'merge', into: targetId });
    expect(kindsOf(merged)).toEqual(['record-outage', 'merge-into']);
    // O9: the target's record holds the joined outage; this one counts no downtime.
    expect(effectOf(merged, 'record-outage').outage).toMatchObject({ caseId, startedAt: iso(start), endedAt: iso(start) });
    expect(mergeOf(merged)).toEqual({
      kind: 'merge',
      fromCaseId: caseId,
      fromWorkflowId: workflowId,
      title,
      reason,
      mergedBy: supervisor,
      mergedAt: iso(at),
      outageStartedAt: iso(start),
      severity: 'SEV2',
      alerts: [],
      scope: pudong,
      noticedScopes: [pudong],
      notifiedUnder: prefixesOf(caseId),
      noticePublishedAt: iso(start + minutes(30)),
    });
    expect(merged.state.endedAtMs).toBeUndefined();
    expect(incidentCase.isClosed(merged.state)).toBe(true);
    expect(incidentCase.nextWakeAtMs!(merged.state)).toBeUndefined();
    expect(incidentOutcome(merged.state)).toEqual({ caseId, status: 'closed', slaBreached: false, outageMinutes: null, remediesPaid: 0 });
    const view = viewOf(incidentCase, merged);
    expect(view).toMatchObject({ status: 'closed', nextStep: null, allowedActions: [] });
    expect(view.details).toMatchObject({ mergedInto: { caseId: targetId, reason, by: supervisor.id, at: iso(at), failed: false }, mergedFrom: [], resolution: null });
    expect(incidentDetailsSchema.strict().safeParse(view.details).success).toBe(true);
    const delivered = effectDone(incidentCase, merged, effectOf(merged, 'merge-into'), { ok: true, result: { into: targetId } }, at + 1_000);
    expect(typesOf(delivered)).toEqual(['incident.merge-delivered']);
    expect(delivered.effects).toEqual([]);
  });

  it('O2/P5: an incident that told nobody passes no key prefixes; one never merged shows no merge', () => {
    expect(mergeOf(take(scopedIncident(), 'merge', merging, { actor: supervisor })).notifiedUnder).toEqual([]);
    expect(viewOf(incidentCase, scopedIncident()).details).toMatchObject({ mergedInto: null, mergedFrom: [] });
  });

  it('O2/P5: a target that cannot be told fails visibly: recorded, escalated to supervisors, the alert group released, the outage ended at the merge', () => {
    const { scoped } = firingIncident();
    const at = start + minutes(20);
    const merged = take(scoped, 'merge', merging, { actor: supervisor, atMs: at });
    expect(mergeOf(merged).alerts.map((entry) => entry.fingerprint)).toEqual(['a', 'b']);
    const failure: EffectOutcome = { ok: false, retryable: false, attempt: 1, message: `incident ${targetId} is not running: workflow not found` };
    const failed = effectDone(incidentCase, merged, effectOf(merged, 'merge-into'), failure, at + 1_000);
    expect(typesOf(failed)).toEqual(['incident.merge-failed']);
    const recorded = only(failed, 'incident.merge-failed');
    expect(recorded.data).toEqual({ into: targetId, attempt: 1, error: failure.message, retrying: false, escalatedTo: 'supervisor' });
    expect(recorded.staffNotifications).toMatchObject([{ role: 'supervisor', subject: `${caseId} · merge into ${targetId} FAILED` }]);
    expect(recorded.staffNotifications![0]!.body).toContain('The alert group is released');
    expect(kindsOf(failed)).toEqual(['close-alert-group', 'record-outage']);
    expect(effectOf(failed, 'close-alert-group')).toMatchObject({ dedupKey, knownAlerts: [{ fingerprint: 'a' }, { fingerprint: 'b' }] });
    expect(effectOf(failed, 'record-outage').outage).toMatchObject({ startedAt: iso(start), endedAt: iso(at) });
    expect(viewOf(incidentCase, failed).details).toMatchObject({ mergedInto: { caseId: targetId, failed: true } });
    expect(failed.state.status).toBe('closed');
  });

  it('O2/P5: the target records the merge, widens its scope to the union (staff now, labels no longer narrow it), keeps the scopes already told and takes the alert group', () => {
    const { published, absorbed, counted } = targetAfterMerge();
    const at = start + minutes(60);
    expect(typesOf(absorbed)).toEqual(['incident.merged']);
    expect(only(absorbed, 'incident.merged')).toMatchObject({
      actor: supervisor,
      data: {
        from: caseId,
        reason,
        alerts: 0,
        alertsJoined: 0,
        absorbedScope: pudong,
        absorbedNoticedScopes: [pudong],
        absorbedNoticePublishedAt: iso(start + minutes(30)),
        notifiedUnder: prefixesOf(caseId),
        scopeBefore: minhang,
        scope: union,
        outageStartedAt: iso(start),
      },
    });
    expect(absorbed.state).toMatchObject({
      scope: union,
      scopeSource: 'staff',
      noticedScopes: [minhang, pudong],
      mergedFrom: [caseId],
      alsoNotifiedUnder: prefixesOf(caseId),
      outageStartedAtMs: start,
    });
    expect(absorbed.effects).toEqual([
      { kind: 'adopt-alert-groups', fromCaseId: caseId, at: iso(at), knownAlerts: [], release: false },
      { kind: 'count-affected', scopes: [minhang, pudong, union], actor: supervisor, source: 'staff' },
    ]);
    // The published notice follows the wider scope, skipping those the absorbed incident told.
    expect(only(counted, 'incident.scope-set').data).toMatchObject({ scope: union, source: 'staff', affectedCount: 1_700 });
    expect(effectOf(counted, 'fanout').request).toEqual({
      number: 2,
      kind: 'outage-notice',
      keyPrefix: `${targetWorkflowId}:notice`,
      scopes: [minhang, pudong, union],
      message: { title, startedAt: iso(start), message: published.state.notice.message },
      skipNotifiedUnder: prefixesOf(caseId),
    });
    expect(effectOf(counted, 'record-outage').outage).toMatchObject({ caseId: targetId, startedAt: iso(start), endedAt: null, regions: ['shanghai-minhang', 'shanghai-pudong'] });
    expect(viewOf(incidentCase, counted).details).toMatchObject({ mergedInto: null, mergedFrom: [caseId], scope: union, scopeSource: 'staff' });
    expect(incidentDetailsSchema.strict().safeParse(viewOf(incidentCase, counted).details).success).toBe(true);
    // The same merge again changes nothing; alert labels no longer narrow the scope.
    expect(signal(incidentCase, counted, mergeOf(absorbedAfterNotice()), start + minutes(62)).events).toEqual([]);
    const labelled = signal(incidentCase, counted, batch([alert('w', labelsWest)], start + minutes(63)), start + minutes(63));
    expect(kindsOf(labelled)).not.toContain('count-affected');
    expect(labelled.state.scope).toEqual(union);
  });

  it('O2/P5: recovery and remedies come only from the target, to the union, from the start of the joined outage, with no customer skipped', () => {
    const { counted } = targetAfterMerge();
    const resolved = take(counted, 'resolve', { summary: 'Trunk spliced' }, { atMs: start + hours(3) });
    expect(only(resolved, 'incident.resolved').data).toMatchObject({ outageMinutes: 180 });
    expect(effectOf(resolved, 'fanout').request).toEqual({
      number: 3,
      kind: 'recovery',
      keyPrefix: `${targetWorkflowId}:recovery`,
      scopes: [minhang, pudong, union],
      message: { title, startedAt: iso(start), endedAt: iso(start + hours(3)), outageMinutes: 180 },
    });
    expect(effectOf(resolved, 'record-outage').outage).toMatchObject({ startedAt: iso(start), endedAt: iso(start + hours(3)), regions: ['shanghai-minhang', 'shanghai-pudong'] });
    expect(incidentOutcome(resolved.state)).toMatchObject({ status: 'resolved', outageMinutes: 180 });
  });

  it("O2/P5: a target whose notice is still a draft publishes it later without the absorbed incident's told customers; its updates go to everyone", () => {
    const absorbed = signal(incidentCase, targetIncident(), mergeOf(absorbedAfterNotice()), start + minutes(60));
    const counting = effectOf(absorbed, 'count-affected');
    const counted = effectDone(incidentCase, absorbed, counting, countedFor(counting, 1_700), start + minutes(61));
    expect(kindsOf(counted)).toEqual(['record-outage']);
    const published = take(counted, 'publish-notice', {}, { atMs: start + minutes(70) });
    expect(effectOf(published, 'fanout').request).toMatchObject({ kind: 'outage-notice', scopes: [pudong, union], skipNotifiedUnder: prefixesOf(caseId) });
    const update = take(published, 'post-update', { message: 'Crews on site', notifyUsers: true }, { requestId: 'upd-9' });
    expect(effectOf(update, 'fanout').request).not.toHaveProperty('skipNotifiedUnder');
  });

  it("O2/P5: the absorbed incident's alerts join the target's, and the target resolves when all of them have", () => {
    const { scoped } = firingIncident();
    const merge = mergeOf(take(scoped, 'merge', merging, { actor: supervisor, atMs: start + minutes(20) }));
    const absorbed = signal(incidentCase, targetIncident(), merge, start + minutes(40));
    expect(only(absorbed, 'incident.merged').data).toMatchObject({ alerts: 2, alertsJoined: 2, totals: { total: 2, firing: 2, resolved: 0 }, notifiedUnder: [] });
    expect(effectOf(absorbed, 'adopt-alert-groups').knownAlerts).toEqual([
      { fingerprint: 'a', startsAt: iso(start) },
      { fingerprint: 'b', startsAt: iso(start) },
    ]);
    // The alert labels were SEV1 (critical): the worse severity wins.
    expect(only(absorbed, 'incident.classified').data).toMatchObject({ severity: 'SEV1', previous: 'SEV2', source: 'staff', reason: `merged from ${caseId}` });
    const counting = effectOf(absorbed, 'count-affected');
    const counted = effectDone(incidentCase, absorbed, counting, countedFor(counting, 1_700), start + minutes(41));
    const oneEnds = signal(incidentCase, counted, batch([alert('a', labelsEast, start + minutes(50))], start + minutes(51)), start + minutes(51));
    expect(oneEnds.state.status).toBe('open');
    const allEnd = signal(incidentCase, oneEnds, batch([alert('b', labelsWest, start + minutes(55))], start + minutes(56)), start + minutes(56));
    expect(typesOf(allEnd)).toContain('incident.resolved');
    expect(effectOf(allEnd, 'fanout').request).toMatchObject({ kind: 'recovery', scopes: [union], message: { startedAt: iso(start), outageMinutes: 55 } });
  });

  it('O2/P5: a target already resolved takes the merge and sends its recovery to the newcomers at once (keys skip those already told); its alert groups are released', () => {
    const resolved = take(targetIncident(), 'resolve', { summary: 'Trunk spliced' }, { atMs: start + minutes(45) });
    const absorbed = signal(incidentCase, resolved, mergeOf(absorbedAfterNotice()), start + minutes(60));
    expect(typesOf(absorbed)).toEqual(['incident.merged']);
    expect(kindsOf(absorbed)).toEqual(['adopt-alert-groups', 'count-affected', 'fanout']);
    expect(effectOf(absorbed, 'adopt-alert-groups').release).toBe(true);
    expect(effectOf(absorbed, 'fanout').request).toMatchObject({ kind: 'recovery', keyPrefix: `${targetWorkflowId}:recovery`, scopes: [pudong, union] });
  });

  it('O2/P5: a target already closed takes nothing: the merge is refused, escalated, and the alert groups released', () => {
    const closed = take(take(targetIncident(), 'resolve', { summary: 'Trunk spliced' }, { atMs: start + minutes(45) }), 'submit-review');
    const refusedMerge = signal(incidentCase, closed, mergeOf(absorbedAfterNotice()), closed.nowMs + minutes(1));
    expect(typesOf(refusedMerge)).toEqual(['incident.merge-refused']);
    expect(only(refusedMerge, 'incident.merge-refused').staffNotifications).toMatchObject([{ role: 'supervisor' }]);
    expect(refusedMerge.effects).toEqual([{ kind: 'adopt-alert-groups', fromCaseId: caseId, at: iso(closed.nowMs + minutes(1)), knownAlerts: [], release: true }]);
    expect(refusedMerge.state.mergedFrom).toBeUndefined();
  });

  it('O2/P5: a target merged on again passes on what it absorbed: every key prefix and the earliest start', () => {
    const { counted } = targetAfterMerge();
    const again = take(counted, 'merge', { into: 'INC-2026-000123', reason: 'One outage' }, { actor: supervisor, atMs: start + hours(2) });
    expect(mergeOf(again)).toMatchObject({
      fromCaseId: targetId,
      outageStartedAt: iso(start),
      notifiedUnder: [...prefixesOf(targetId), ...prefixesOf(caseId)],
      noticedScopes: [minhang, pudong, union],
    });
  });

  it('O2/P5: an incident that absorbed one that told users sends a correction when dismissed', () => {
    const absorbed = signal(incidentCase, targetIncident(), mergeOf(absorbedAfterNotice()), start + minutes(60));
    expect(absorbed.state.fanoutsQueued).toBe(0);
    const dismissed = take(absorbed, 'dismiss', { reason: 'Both were a probe' }, { actor: supervisor });
    expect(effectOf(dismissed, 'fanout').request).toMatchObject({ kind: 'correction', scopes: [pudong, union] });
  });
});

describe('P4: outage remedies above the approval threshold wait for a supervisor (later rule)', () => {
  const approvalRule = allRules(incidentCase, [incidentRules.remedyApproval]);
  const resolvedWithRule = (rules?: Record<string, boolean>) => take(scopedIncident(1_200, rules), 'resolve');

  it('P4: with the rule, the recovery fan-out carries the threshold; without it (incidents opened before), it does not', () => {
    expect(effectOf(resolvedWithRule(approvalRule), 'fanout').request).toMatchObject({ kind: 'recovery', approvalThresholdCents: 10_000 });
    expect(effectOf(resolvedWithRule(), 'fanout').request).not.toHaveProperty('approvalThresholdCents');
  });

  it('P4: remedies that wait block the review until a supervisor approves them; the approval pays them once', () => {
    const resolved = resolvedWithRule(approvalRule);
    const fanoutTotals: FanoutTotals = { ...totals(1_200), remediesPaid: 1_000, remedyAmountCents: 500_000, remediesPending: 200, remedyPendingAmountCents: 2_400_000 };
    const delivered = effectDone(incidentCase, resolved, effectOf(resolved, 'fanout'), { ok: true, result: fanoutTotals }, resolved.nowMs + minutes(2));
    expect(delivered.state.recovery).toMatchObject({ remediesPaid: 1_000, remediesPending: 200, remedyPendingAmountCents: 2_400_000 });
    const review = refused(act(incidentCase, delivered, 'submit-review', validInput['submit-review']!, actorOf('agent'), delivered.nowMs + minutes(1)));
    expect(review.message).toBe('200 remedies above the approval threshold wait for a supervisor: approve-remedies first (P4)');
    expect(refused(act(incidentCase, delivered, 'approve-remedies', {}, actorOf('agent'), delivered.nowMs + minutes(1)))).toMatchObject({ kind: 'forbidden' });
    const approving = take(delivered, 'approve-remedies', {}, { actor: supervisor });
    expect(effectOf(approving, 'approve-remedies')).toEqual({ kind: 'approve-remedies', approvedBy: supervisor.id });
    const approved = effectDone(incidentCase, approving, effectOf(approving, 'approve-remedies'), { ok: true, result: { paid: 200, amountCents: 2_400_000 } }, approving.nowMs + minutes(1));
    expect(typesOf(approved)).toEqual(['incident.remedies-approved']);
    expect(approved.state.recovery).toMatchObject({ remediesPaid: 1_200, remedyAmountCents: 2_900_000, remediesPending: 0 });
    expect(accepted(act(incidentCase, approved, 'submit-review', validInput['submit-review']!, actorOf('agent'), approved.nowMs + minutes(1))).state.status).toBe('closed');
    expect(refused(act(incidentCase, approved, 'approve-remedies', {}, supervisor, approved.nowMs + minutes(1)))).toMatchObject({ kind: 'refused' });
  });
});
