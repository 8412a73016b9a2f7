// Runs one query and prints its rows as JSON, in a process of its own, so that opening an
// embedded database does not stall the load and the receiver of the test's process:
// `node query-once.ts <database> <sql> [values as JSON]`.
import { openDatabase } from '../../src/storage/open-database.ts'

const [database, text, values] = process.argv.slice(2)
const opened = await openDatabase(database!)
try {
  const { rows } = await opened.query(text!, JSON.parse(values ?? '[]'))
  process.stdout.write(JSON.stringify(rows))
} finally {
  await opened.close()
}
