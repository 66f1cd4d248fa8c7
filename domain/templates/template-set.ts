export type Locale = 'zh-CN' | 'en';

export interface MessageText {
  subject: string;
  body: string;
}

/** Texts use `{param}` placeholders; every placeholder must be given when rendering. */
export type TemplateSet = Record<string, Record<Locale, MessageText>>;
