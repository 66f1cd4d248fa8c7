// Customer notifications: the outbox (queued in the step's transaction), the dispatcher that
// delivers it, and its channels: e-mail (SMTP), SMS (SMPP), staff webhooks. The inbox channel is the
// outbox table itself.
export { enqueueNotification, enqueueNotificationBatch, notificationRows, type BatchNotificationRequest, type EnqueueResult } from './outbox';
export { createDispatcher, messageIdFor, type ChannelTransports, type Dispatcher, type DispatcherDeps, type DispatcherLog } from './dispatcher';
export { createMailer, type Mailer, type OutgoingMail } from './mailer';
export { createTransports, type Transports } from './transports';
export { outboxChannel, type NotificationChannel } from '../db/notifications';
