import { ConfigurationError, SourceRefused, SourceUnavailable } from '../../shared/errors.js';

/** Reads a secret's string by id (name or ARN). Secrets Manager in AWS; the environment locally. */
export type SecretReader = (secretId: string) => Promise<string>;

/** How long a secret read from Secrets Manager is reused by a warm Lambda. */
const SECRET_TTL_MS = 5 * 60_000;

/** Secrets Manager `GetSecretValue`, cached per secret for a few minutes. */
export function secretsManagerReader(
  getSecretValue: (secretId: string) => Promise<{ SecretString?: string }>,
  clock: () => number = Date.now,
): SecretReader {
  const cache = new Map<string, { value: string; until: number }>();
  return async (secretId) => {
    const cached = cache.get(secretId);
    if (cached && cached.until > clock()) return cached.value;
    let out: { SecretString?: string };
    try {
      out = await getSecretValue(secretId);
    } catch (error) {
      const name = (error as Error).name;
      const message = `cannot read secret '${secretId}' from Secrets Manager: ${name}: ${(error as Error).message}`;
      if (['ResourceNotFoundException', 'AccessDeniedException', 'DecryptionFailure'].includes(name)) {
        throw new SourceRefused(`${message}; expected a secret the ingest function may read`, {
          cause: error,
        });
      }
      throw new SourceUnavailable(message, { cause: error });
    }
    if (out.SecretString === undefined) {
      throw new SourceRefused(
        `secret '${secretId}' has no string value; expected a connection string or JSON`,
      );
    }
    cache.set(secretId, { value: out.SecretString, until: clock() + SECRET_TTL_MS });
    return out.SecretString;
  };
}

/** The environment variable a local run reads a secret from: `SLUICE_SECRET_<ID>`, non-alphanumerics as `_`. */
export function secretVariable(secretId: string): string {
  return `SLUICE_SECRET_${secretId.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`;
}

/** Secrets for local runs, from `SLUICE_SECRET_<ID>` variables. */
export function environmentSecretReader(env: NodeJS.ProcessEnv = process.env): SecretReader {
  return async (secretId) => {
    const value = env[secretVariable(secretId)];
    if (value === undefined) {
      throw new ConfigurationError(
        `secret '${secretId}' is read from Secrets Manager in AWS; locally set ${secretVariable(secretId)} to its value`,
      );
    }
    return value;
  };
}

/**
 * A credential named by a contract: the environment variable `variable` when it is set, else the
 * secret `secret`. Contracts name variables and secrets, never the values.
 */
export async function credential(
  what: string,
  names: { variable?: string; secret?: string },
  ports: { secrets?: SecretReader; env?: NodeJS.ProcessEnv },
): Promise<string> {
  const env = ports.env ?? process.env;
  if (names.variable && env[names.variable] !== undefined) return env[names.variable]!;
  if (names.secret) return (ports.secrets ?? environmentSecretReader(env))(names.secret);
  throw new ConfigurationError(
    `${what}: environment variable ${names.variable} is not set${names.secret ? '' : ', and the contract names no secret'}`,
  );
}
