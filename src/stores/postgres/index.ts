export {
  DEFAULT_POSTGRES_TABLE,
  postgresEndedSchemaSQL,
  postgresEndedTableName,
  postgresOwnersSchemaSQL,
  postgresOwnersTableName,
  postgresSchemaSQL,
} from './sql.js'
export { PostgresStore } from './store.js'
export type {
  PostgresClient,
  PostgresQuery,
  PostgresResult,
  PostgresStoreOptions,
} from './types.js'
