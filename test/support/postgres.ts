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

export interface TestSchema {
  name: string;
  /** A pool on the test server, for setting up tables and writing concurrently. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A schema of its own for one test file, so that test files can share the server. */
export async function freshSchema(): Promise<TestSchema> {
  const name = `t_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: postgresUrl(), max: 12 });
  await pool.query(`CREATE SCHEMA ${name}`);
  return {
    name,
    pool,
    async drop() {
      await pool.query(`DROP SCHEMA ${name} CASCADE`);
      await pool.end();
    },
  };
}
