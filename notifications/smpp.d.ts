// The part of the `smpp` package (0.5.x, node_modules/smpp/lib) that Pledge uses; the package
// ships no types. Field names follow the SMPP 3.4/5.0 PDU names, as the package does.
declare module 'smpp' {
  import { EventEmitter } from 'node:events';
  import { Server as NetServer, type Socket } from 'node:net';

  /**
   * short_message / message_payload. Sent as a Buffer it goes out verbatim (data_coding must then
   * be set explicitly). Received, it is decoded by data_coding into `message`, and when esm_class
   * has the UDH indicator, `udh` lists the information elements (IEI, length, data…).
   */
  export type ShortMessage = Buffer | string | { udh?: Buffer | Buffer[]; message: string | Buffer };

  export interface PduFields {
    command_status?: number;
    sequence_number?: number;
    system_id?: string;
    password?: string;
    system_type?: string;
    interface_version?: number;
    service_type?: string;
    source_addr_ton?: number;
    source_addr_npi?: number;
    source_addr?: string;
    dest_addr_ton?: number;
    dest_addr_npi?: number;
    destination_addr?: string;
    esm_class?: number;
    protocol_id?: number;
    priority_flag?: number;
    registered_delivery?: number;
    data_coding?: number | null;
    short_message?: ShortMessage;
    message_id?: string;
    // TLVs
    receipted_message_id?: string;
    message_state?: number;
    network_error_code?: Buffer;
    message_payload?: ShortMessage;
  }

  /** A decoded PDU carries its command's fields (and TLVs) as properties. */
  export interface PDU extends PduFields {
    /** Command name, e.g. 'submit_sm', 'deliver_sm_resp'; 'unknown' for an unknown command_id. */
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    isResponse(): boolean;
    /** The matching *_resp (generic_nack for an unknown command), with this PDU's sequence number. */
    response(options?: PduFields): PDU;
    toBuffer(): Buffer;
  }
  export const PDU: new (command: string, options?: PduFields) => PDU;

  type ResponseCallback = (response: PDU) => void;
  /** Sends the command; false (and nothing sent) when the socket is no longer writable. */
  type Command = {
    (options: PduFields, onResponse?: ResponseCallback, onSent?: ResponseCallback): boolean;
    (onResponse?: ResponseCallback, onSent?: ResponseCallback): boolean;
  };

  /** One SMPP connection. Emits 'connect' / 'secureConnect', 'close', 'error', 'pdu' and each PDU by command name. */
  export class Session extends EventEmitter {
    socket: Socket;
    send(pdu: PDU, onResponse?: ResponseCallback, onSent?: ResponseCallback): boolean;
    /** Ends the socket gracefully. */
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    bind_transceiver: Command;
    bind_transmitter: Command;
    bind_receiver: Command;
    submit_sm: Command;
    deliver_sm: Command;
    enquire_link: Command;
    unbind: Command;
    generic_nack: Command;
  }

  /** Emits 'session' with each accepted connection. */
  export class Server extends NetServer {
    sessions: Session[];
  }

  export interface ConnectOptions {
    host: string;
    port: number;
    tls?: boolean;
    /** The package then sends enquire_link itself, without watching for the answer. */
    auto_enquire_link_period?: number;
  }

  export function connect(options: ConnectOptions | string, listener?: () => void): Session;
  export function createServer(listener?: (session: Session) => void): Server;
  export function createServer(options: object, listener?: (session: Session) => void): Server;

  /** Every command_status by name, e.g. errors.ESME_RTHROTTLED === 0x58. */
  export const errors: Readonly<Record<string, number>>;
  export const ESME_ROK: number;
  export const ESME_RINVMSGLEN: number;
  export const ESME_RSYSERR: number;
  export const ESME_RINVDSTADR: number;
  export const ESME_RBINDFAIL: number;
  export const ESME_RINVPASWD: number;
  export const ESME_RINVSYSID: number;
  export const ESME_RMSGQFUL: number;
  export const ESME_RTHROTTLED: number;
  export const ESME_RX_T_APPN: number;

  export const ESM_CLASS: Readonly<{ MC_DELIVERY_RECEIPT: number; UDH_INDICATOR: number } & Record<string, number>>;
  export const MESSAGE_STATE: Readonly<Record<'SCHEDULED' | 'ENROUTE' | 'DELIVERED' | 'EXPIRED' | 'DELETED' | 'UNDELIVERABLE' | 'ACCEPTED' | 'UNKNOWN' | 'REJECTED' | 'SKIPPED', number>>;
  export const TON: Readonly<{ UNKNOWN: number; INTERNATIONAL: number; NATIONAL: number; ALPHANUMERIC: number } & Record<string, number>>;
  export const NPI: Readonly<{ UNKNOWN: number; ISDN: number } & Record<string, number>>;
}
