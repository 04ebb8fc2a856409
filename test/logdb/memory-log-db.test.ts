import { MemoryLogDB } from '../../src/logdb/memory-log-db.js';
import { logDBCompliance } from './compliance.js';

logDBCompliance('MemoryLogDB', () => Promise.resolve({ db: new MemoryLogDB(), cleanup: () => Promise.resolve() }));
