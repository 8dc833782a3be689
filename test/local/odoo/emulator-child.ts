// Runs the Odoo emulator in a child process so a test can kill it with SIGKILL.
import { startOdooEmulator } from '../../../local/odoo/server.ts';

const emulator = await startOdooEmulator({ snapshotFile: process.argv[2] });
process.send?.({ url: emulator.url, password: emulator.integration.password });
