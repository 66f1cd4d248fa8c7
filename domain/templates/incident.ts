import type { TemplateSet } from './template-set';

/** What an outage incident tells affected users, in every locale. */
export const incidentTemplates = {
  // O4: told within 2 hours of the start; {message} is the drafted (or staff-edited) text.
  'incident.outage-notice': {
    'zh-CN': {
      subject: '服务中断通知（{caseId}）：{title}',
      body:
        '您好：\n\n我们发现以下服务出现中断，可能影响您的使用：\n{title}\n开始时间：{startedAt}\n\n{message}\n\n' +
        '我们正在全力抢修，恢复后将第一时间通知您，并按照补偿标准为您办理补偿。事件编号：{caseId}。',
    },
    en: {
      subject: 'Service interruption ({caseId}): {title}',
      body:
        'Hello,\n\nWe have found a service interruption that may affect you:\n{title}\nStarted: {startedAt}\n\n{message}\n\n' +
        'We are working to restore service and will tell you as soon as it is back, with any compensation you are owed. Incident reference: {caseId}.',
    },
  },
  // O5: a progress update staff chose to send.
  'incident.update': {
    'zh-CN': {
      subject: '服务中断进展（{caseId}）：{title}',
      body: '您好：\n\n关于服务中断（{title}，事件编号 {caseId}）的最新进展：\n\n{message}',
    },
    en: {
      subject: 'Service interruption update ({caseId}): {title}',
      body: 'Hello,\n\nAn update on the service interruption ({title}, reference {caseId}):\n\n{message}',
    },
  },
  // O7: service restored; the outage was too short for a remedy.
  'incident.recovered': {
    'zh-CN': {
      subject: '服务已恢复（{caseId}）：{title}',
      body: '您好：\n\n服务中断（{title}）已于 {endedAt} 恢复。\n中断开始：{startedAt}\n中断时长：{duration}\n\n给您带来不便，我们深表歉意。事件编号：{caseId}。',
    },
    en: {
      subject: 'Service restored ({caseId}): {title}',
      body: 'Hello,\n\nThe service interruption ({title}) ended at {endedAt}.\nStarted: {startedAt}\nDuration: {duration}\n\nWe apologise for the inconvenience. Incident reference: {caseId}.',
    },
  },
  // O7 + O8/P2: service restored, and the remedy told in writing with its amount.
  // P4: a remedy above the approval threshold is announced and paid once a supervisor approves it.
  'incident.recovered-remedy-pending': {
    'zh-CN': {
      subject: '服务已恢复（{caseId}）：{title}',
      body:
        '您好：\n\n服务中断（{title}）已于 {endedAt} 恢复。\n中断开始：{startedAt}\n中断时长：{duration}\n\n' +
        '根据补偿标准（{policyVersion}），您可获得 {creditDays} 天服务费抵扣，金额 {amount}，经审核后发放，届时我们将另行通知。事件编号：{caseId}。',
    },
    en: {
      subject: 'Service restored ({caseId}): {title}',
      body:
        'Hello,\n\nThe interruption ({title}) ended at {endedAt}.\nStarted: {startedAt}\nDuration: {duration}\n\n' +
        'Under compensation policy {policyVersion} you are owed {creditDays} days of service, {amount}. It is paid once approved; we will tell you when. Incident reference: {caseId}.',
    },
  },
  'incident.remedy-approved': {
    'zh-CN': {
      subject: '补偿已发放（{caseId}）',
      body: '您好：\n\n您因服务中断（事件编号 {caseId}）应得的补偿 {amount} 已审核通过并发放至您的账户（补偿标准 {policyVersion}）。',
    },
    en: {
      subject: 'Your compensation has been paid ({caseId})',
      body: 'Hello,\n\nThe compensation of {amount} you are owed for the interruption {caseId} was approved and credited to your account (compensation policy {policyVersion}).',
    },
  },
  'incident.recovered-with-remedy': {
    'zh-CN': {
      subject: '服务已恢复，补偿已发放（{caseId}）：{title}',
      body:
        '您好：\n\n服务中断（{title}）已于 {endedAt} 恢复。\n中断开始：{startedAt}\n中断时长：{duration}\n\n' +
        '根据补偿标准（{policyVersion}），我们已向您的账户发放 {creditDays} 天服务费抵扣，金额 {amount}。给您带来不便，我们深表歉意。事件编号：{caseId}。',
    },
    en: {
      subject: 'Service restored and compensation credited ({caseId}): {title}',
      body:
        'Hello,\n\nThe service interruption ({title}) ended at {endedAt}.\nStarted: {startedAt}\nDuration: {duration}\n\n' +
        'Under our compensation policy ({policyVersion}) we have credited {creditDays} day(s) of your service fee, {amount}, to your account. ' +
        'We apologise for the inconvenience. Incident reference: {caseId}.',
    },
  },
  // O2/P5: the incident was a false alarm; users who were told of it (notice or update) are told so.
  'incident.correction': {
    'zh-CN': {
      subject: '更正：服务中断通知有误（{caseId}）：{title}',
      body: '您好：\n\n我们此前通知您的服务中断（{title}，开始时间：{startedAt}）经核实为误报，您的服务未受影响，无需任何操作。\n\n{message}\n\n' + '给您带来困扰，我们深表歉意。事件编号：{caseId}。',
    },
    en: {
      subject: 'Correction: no service interruption ({caseId}): {title}',
      body:
        'Hello,\n\nWe told you earlier about a service interruption ({title}, started {startedAt}). On checking, it was a false alarm: ' +
        'your service was not affected and you need do nothing.\n\n{message}\n\nWe apologise for the confusion. Incident reference: {caseId}.',
    },
  },
} satisfies TemplateSet;
