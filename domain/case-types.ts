/** Every case type Pledge runs; each has one workflow and one case-number prefix. */
export const caseTypes = ['complaint', 'incident', 'compensation', 'service-change', 'termination', 'data-request'] as const;
export type CaseType = (typeof caseTypes)[number];

const caseNumberPrefixes: Record<CaseType, string> = {
  complaint: 'CMP',
  incident: 'INC',
  compensation: 'CLM',
  'service-change': 'CHG',
  termination: 'TRM',
  'data-request': 'DSR',
};

/** Case numbers read like `CMP-2026-000042`: type, year of intake, sequence. */
export function formatCaseId(type: CaseType, year: number, sequence: number): string {
  return `${caseNumberPrefixes[type]}-${year}-${String(sequence).padStart(6, '0')}`;
}

export function caseTypeOfCaseId(caseId: string): CaseType | undefined {
  const match = /^([A-Z]{3})-\d{4}-\d{6,}$/.exec(caseId);
  if (!match) return undefined;
  return caseTypes.find((type) => caseNumberPrefixes[type] === match[1]);
}

/** The one place workflow ids are made: `<type>-<caseId>`. */
export function caseWorkflowId(type: CaseType, caseId: string): string {
  return `${type}-${caseId}`;
}
