import { newRouter } from '../router';
import type { ApiDeps } from '../deps';

/** Working-calendar years: read the calendar in force, load a new year (Complaints issue). */
export function calendarRoutes(_deps: ApiDeps) {
  return newRouter();
}
