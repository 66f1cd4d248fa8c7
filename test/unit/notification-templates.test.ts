import { describe, expect, it } from 'vitest';
import { formatDateTime, renderNotification, resolveLocale, templateIds, templateParams, type Locale } from '../../domain/notification-templates';

const allParams = {
  caseId: 'C-2026-000042',
  summary: 'Broadband down since Monday',
  message: 'A technician visits tomorrow.',
  problem: 'No signal on the line',
  steps: 'A technician replaces the modem',
  expectedCompletion: '2026-12-01 10:00 (Asia/Shanghai)',
};

describe('renderNotification', () => {
  it('renders the received notice in Chinese with the case number', () => {
    const rendered = renderNotification('complaint.received', 'zh-CN', allParams);
    expect(rendered.locale).toBe('zh-CN');
    expect(rendered.subject).toBe('我们已收到您的投诉（案件编号 C-2026-000042）');
    expect(rendered.body).toContain('案件编号为 C-2026-000042');
    expect(rendered.body).toContain('Broadband down since Monday');
  });

  it('renders the received notice in English with the case number', () => {
    const rendered = renderNotification('complaint.received', 'en', allParams);
    expect(rendered.locale).toBe('en');
    expect(rendered.subject).toBe('We have received your complaint (case C-2026-000042)');
    expect(rendered.body).toContain('Your case number is C-2026-000042');
  });

  it("carries the agent's and the resolution's own words", () => {
    expect(renderNotification('complaint.acknowledged', 'en', allParams).body).toContain('A technician visits tomorrow.');
    expect(renderNotification('complaint.resolved', 'zh-CN', allParams).body).toContain('A technician visits tomorrow.');
    // C13: the problem as understood, the steps and the expected completion.
    expect(renderNotification('complaint.acknowledged', 'en', allParams).body).toContain('Expected completion: 2026-12-01 10:00 (Asia/Shanghai)');
    expect(renderNotification('complaint.preliminary', 'zh-CN', allParams).body).toContain('处理步骤：A technician replaces the modem');
  });

  it.each([
    ['en-US', 'en'],
    ['en_GB', 'en'],
    ['EN', 'en'],
    ['zh', 'zh-CN'],
    ['zh-Hans', 'zh-CN'],
    ['zh_CN', 'zh-CN'],
    ['fr-FR', 'zh-CN'],
    ['', 'zh-CN'],
  ] as const)('maps the locale %j to %s', (requested, expected) => {
    expect(resolveLocale(requested)).toBe(expected);
    expect(renderNotification('complaint.closed', requested, allParams).locale).toBe(expected);
  });

  it('refuses to render when a param is missing, naming it', () => {
    expect(() => renderNotification('complaint.acknowledged', 'en', { caseId: 'C-1' })).toThrow(/'message'/);
  });

  it('does not substitute placeholders found inside param values', () => {
    const rendered = renderNotification('complaint.acknowledged', 'en', { ...allParams, caseId: 'C-1', message: 'see {caseId}' });
    expect(rendered.body).toContain('see {caseId}');
  });

  it('refuses an unknown template id', () => {
    expect(() => renderNotification('complaint.lost' as never, 'en', allParams)).toThrow(/complaint\.lost/);
  });

  describe.each(templateIds)('%s', (templateId) => {
    it.each(['zh-CN', 'en'] as const)('renders in %s with no placeholder left over', (locale) => {
      const params = Object.fromEntries(templateParams(templateId).map((name) => [name, `<${name}>`]));
      const rendered = renderNotification(templateId, locale, params);
      expect(rendered.locale).toBe(locale);
      expect(rendered.subject.trim()).not.toBe('');
      expect(rendered.body.trim()).not.toBe('');
      expect(`${rendered.subject}${rendered.body}`).not.toMatch(/[{}]/);
    });

    it('tells the customer the case number', () => {
      expect(templateParams(templateId)).toContain('caseId');
    });
  });
});

describe('formatDateTime', () => {
  const cases: [Locale, string][] = [
    ['zh-CN', '2026年11月23日 14:00（中国标准时间）'],
    ['en', '23 Nov 2026, 14:00 (China Standard Time)'],
  ];
  it.each(cases)('formats in %s in the given time zone', (locale, expected) => {
    expect(formatDateTime('2026-11-23T06:00:00Z', locale, 'Asia/Shanghai')).toBe(expected);
  });

  it('uses the time zone it is given, not the machine one', () => {
    expect(formatDateTime('2026-11-23T23:30:00Z', 'en', 'Asia/Shanghai')).toMatch(/^24 Nov 2026, 07:30/);
  });

  it('refuses a string that is not a timestamp', () => {
    expect(() => formatDateTime('next Tuesday', 'en', 'Asia/Shanghai')).toThrow(/next Tuesday/);
  });
});
