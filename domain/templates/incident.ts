import type { TemplateSet } from './template-set';

/** What an outage incident tells affected users, in every locale. */
export const incidentTemplates = {} satisfies TemplateSet;
