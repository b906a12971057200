/**
 * Fails fast when a secured cluster refuses this client for good: an untrusted or mismatched
 * broker certificate, TLS against a plaintext listener, or a SASL login the brokers reject.
 * kafkajs counts a TLS verification failure as a connection error and retries it for about a
 * minute; one probe without retries (an admin connect) tells a refusal from a broker that is
 * merely down, which the operation itself then rides out as before.
 */
import { Kafka } from 'kafkajs';
import { BackendUnavailableError, errorMessage } from '../../../errors';
import type { KafkaEventBusOptions } from '../options';
import { kafkajsClient } from './client';

/** Node's codes for a certificate one side will not trust, and for TLS spoken to a plaintext port. */
const REFUSED_TLS = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
]);
/** The broker's TLS alerts about our client certificate (mTLS): not trusted, bad, or missing (`ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_UNKNOWN` on OpenSSL 3). */
const REFUSED_CLIENT_CERTIFICATE = /^ERR_SSL_.*ALERT_(CERTIFICATE_UNKNOWN|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_REQUIRED|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED)$/;

interface KafkajsFailure {
  name?: string;
  code?: string;
  retriable?: boolean;
  cause?: unknown;
  errors?: unknown[];
}

/**
 * True when trying again with the same settings cannot succeed: a rejected login, a certificate
 * not trusted, a request the brokers refuse (an invalid replication factor). Not a broker that is
 * down, nor kafkajs giving up its retries of one (retries exceeded: its cause decides).
 */
export function isRefusal(error: unknown): boolean {
  const failure = (error ?? {}) as KafkajsFailure;
  switch (failure.name) {
    case 'KafkaJSConnectionError':
      return REFUSED_TLS.has(failure.code ?? '') || REFUSED_CLIENT_CERTIFICATE.test(failure.code ?? '');
    case 'KafkaJSNumberOfRetriesExceeded':
      return failure.cause !== error && isRefusal(failure.cause);
    case 'KafkaJSAggregateError':
      return (failure.errors ?? []).length > 0 && (failure.errors ?? []).every(isRefusal);
    case 'KafkaJSSASLAuthenticationError':
    case 'TokenRefusedError':
      return true;
    default:
      return failure.retriable === false && /^KafkaJS.*(Protocol|Topic)/.test(failure.name ?? '');
  }
}

export class KafkajsAccess {
  private verified = false;
  private probing?: Promise<void>;
  private readonly probe?: Kafka;

  constructor(private readonly options: KafkaEventBusOptions) {
    // Plaintext without a login has nothing the brokers could refuse for good.
    if (options.tls || options.sasl) this.probe = kafkajsClient(options, { retries: 0 });
  }

  /** Resolves unless the cluster refuses these settings; once they were accepted, at once. */
  verify(): Promise<void> {
    if (this.verified || !this.probe) return Promise.resolve();
    this.probing ??= this.connectOnce(this.probe).finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async connectOnce(kafka: Kafka): Promise<void> {
    const admin = kafka.admin();
    try {
      await admin.connect();
      this.verified = true;
    } catch (error) {
      if (!isRefusal(error)) return; // down or slow: the operation's own retries decide
      const security = `${this.options.tls ? 'TLS' : 'plaintext'}${this.options.sasl ? ` + SASL ${this.options.sasl.mechanism}` : ''}`;
      throw new BackendUnavailableError('kafka', `the brokers refused this client (${security}): ${errorMessage(error)}`, error);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
