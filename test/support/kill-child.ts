/** Runs a child process that reports progress on stdout, and SIGKILLs it at a chosen moment. */
import { spawn } from 'node:child_process';

/** How to run and when to kill a child. */
export interface KillPlan {
  /** Script (compiled .js) and its arguments. */
  readonly script: string;
  readonly args: readonly string[];
  /** The line the child prints once it is ready; the kill timer starts then. */
  readonly readyLine: string;
  /** Lines starting with this prefix report one acknowledged number each. */
  readonly ackPrefix: string;
  /** Milliseconds after `readyLine` at which the child is killed. */
  readonly killAfterMs: number;
  /** Hard limit on the child's life. Default 15 s. */
  readonly limitMs?: number;
}

/**
 * Runs the child until it is SIGKILLed and resolves with the numbers it acknowledged.
 * Rejects when the child exits in any other way (its stderr in the message).
 */
export function runUntilKilled(p: KillPlan): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [p.script, ...p.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: number[] = [];
    let buf = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const hard = setTimeout(() => child.kill('SIGKILL'), p.limitMs ?? 15_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        if (line === p.readyLine) timer = setTimeout(() => child.kill('SIGKILL'), p.killAfterMs);
        else if (line.startsWith(p.ackPrefix)) acks.push(Number(line.slice(p.ackPrefix.length)));
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(hard);
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code} ${signal}: ${stderr}`));
      else resolve(acks);
    });
  });
}
