import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server the global setup started (scripts/postgres.mjs); integration tests need it. */
export function postgresUrl(): string {
  const url = process.env.SLUICE_TEST_POSTGRES_URL;
  if (!url) {
    throw new Error(
      `no PostgreSQL for the tests: ${process.env.SLUICE_TEST_POSTGRES_ERROR ?? 'run them through npm test, whose global setup starts scripts/postgres.mjs'}`,
    );
  }
  return url;
}

export interface TestDatabase {
  /** The database's name, also the name of a schema in it that the test's tables go in. */
  name: string;
  /** A connection string to this database. */
  url: string;
  /** A pool on it, for setting up tables and writing concurrently. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file. Extractions wait for the older transactions of their
 * database only, so test files running side by side on the shared server do not hold each other up.
 */
export async function freshDatabase(): Promise<TestDatabase> {
  const name = `t_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(postgresUrl());
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 12 });
  await pool.query(`CREATE SCHEMA ${name}`);
  return {
    name,
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: postgresUrl() });
      await client.connect();
      await client.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
