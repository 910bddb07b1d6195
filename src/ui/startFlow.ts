// "Start Capture…": a multi-step QuickInput with the targets prefilled. Each step remembers
// the last choice per cluster (globalState). Quick Capture skips the steps and uses defaults.
import * as vscode from 'vscode';
import { SETTINGS } from '../views/ids.js';
import type { Selection } from '../views/targets.js';
import { captureNamespace } from '../views/targets.js';
import type { UiCaptureRequest } from './captureEngine.js';
import { userSetting } from './userSettings.js';

export interface LastChoices {
  durationSeconds: number;
  filter: string;
  output: 'hostPath' | 'blob' | 'both';
  maxSizeMB: number;
  snapLength: number;
  mode: 'node' | 'pod';
  /** Remembered per cluster; only offered (and only used) where the Capture CRD is served. */
  via?: 'jobs' | 'captureResource';
}

const STATE_KEY = (context: string): string => `retinaCapture.last/${context}`;

export function settingsDefaults(): LastChoices {
  const cfg = vscode.workspace.getConfiguration(SETTINGS.section);
  return {
    durationSeconds: cfg.get<number>(SETTINGS.defaultDurationSeconds, 60),
    filter: '',
    output: 'hostPath',
    maxSizeMB: cfg.get<number>(SETTINGS.defaultMaxSizeMB, 100),
    snapLength: 0,
    mode: 'node',
  };
}

export function buildRequest(sel: Selection, c: LastChoices, blobSasUrl: string | undefined): UiCaptureRequest {
  const cfg = vscode.workspace.getConfiguration(SETTINGS.section);
  const outputs: UiCaptureRequest['outputs'] = {};
  if (c.output !== 'blob') outputs.hostPath = { subPath: cfg.get<string>(SETTINGS.hostPathSubPath, 'retina') };
  if (c.output !== 'hostPath' && blobSasUrl) outputs.blob = { sasUrl: blobSasUrl };
  return {
    context: sel.context ?? '',
    namespace: captureNamespace(sel.targets),
    targets: sel.targets,
    durationSeconds: c.durationSeconds,
    maxSizeMB: c.maxSizeMB,
    snapLength: c.snapLength,
    filter: c.filter,
    outputs,
    workerImage: userSetting<string>('workerImage', '') || 'retina-capture-worker:latest',
    mode: c.mode,
    ...(c.via === 'captureResource' ? { via: c.via } : {}),
    maxConcurrentJobs: cfg.get<number>(SETTINGS.maxConcurrentJobs, 10),
  };
}

/** Parses `30`, `30s`, `5m`, `1h30m` into seconds. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(t);
  if (!m || t === '') return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

type Check = (v: string) => string | undefined;

export async function runStartFlow(
  memento: vscode.Memento,
  sel: Selection,
  filterCheck: Check,
  /** Resolves whether Retina's Capture CRD is served; asked while the first steps are shown. */
  captureCrd: Promise<boolean> = Promise.resolve(false),
): Promise<LastChoices | undefined> {
  const key = STATE_KEY(sel.context ?? '');
  const last = { ...settingsDefaults(), ...memento.get<Partial<LastChoices>>(key) };
  const title = `Start Capture: ${sel.label}`;
  const total = 4;

  const dur = await input({
    title,
    step: 1,
    total,
    prompt: 'Duration (e.g. 30s, 2m, 1h)',
    value: `${last.durationSeconds}s`,
    validate: (v) => {
      const s = parseDuration(v);
      return s === undefined || s < 1 || s > 86_400 ? 'A duration from 1s to 24h, like 30s, 2m or 1h30m' : undefined;
    },
  });
  if (dur === undefined) return undefined;
  const filter = await input({
    title,
    step: 2,
    total,
    prompt: 'Packet filter (BPF, as in tcpdump), empty for all traffic',
    placeholder: 'tcp port 80 or udp port 53',
    value: last.filter,
    validate: filterCheck,
  });
  if (filter === undefined) return undefined;
  const outputs = [
    {
      label: 'Host path on each node',
      description: 'download through a short-lived helper pod',
      value: 'hostPath' as const,
    },
    { label: 'Blob storage', description: 'upload with a SAS URL (Set Blob Storage…)', value: 'blob' as const },
    { label: 'Both', value: 'both' as const },
  ];
  const out = await pick(title, 3, total, 'Where should the capture files go?', outputs, last.output);
  if (out === undefined) return undefined;
  const crd = await captureCrd.catch(() => false);
  const viaOperator = crd && last.via === 'captureResource' ? ', through Retina operator' : '';
  const adv = [
    {
      label: 'Start now',
      description: `max ${last.maxSizeMB} MB, ${last.mode === 'pod' ? "pods' own interfaces" : 'whole node'}${viaOperator}`,
      value: 'go' as const,
    },
    { label: 'Advanced options…', description: 'size limit, snap length, pod interfaces', value: 'advanced' as const },
  ];
  const next = await pick(title, 4, total, 'Ready', adv, 'go');
  if (next === undefined) return undefined;
  const choices: LastChoices = {
    ...last,
    durationSeconds: parseDuration(dur) ?? last.durationSeconds,
    filter: filter.trim(),
    output: out,
  };
  if (!crd) choices.via = undefined;
  const steps = crd ? 8 : 7;
  if (next === 'advanced') {
    const size = await input({
      title,
      step: 5,
      total: steps,
      prompt: 'Max capture size per node (MB)',
      value: String(last.maxSizeMB),
      validate: (v) => (/^\d+$/.test(v) && +v >= 1 && +v <= 10240 ? undefined : '1–10240'),
    });
    if (size === undefined) return undefined;
    const snap = await input({
      title,
      step: 6,
      total: steps,
      prompt: 'Bytes kept per packet (0 = whole packet)',
      value: String(last.snapLength),
      validate: (v) => (/^\d+$/.test(v) && (+v === 0 || (+v >= 64 && +v <= 262144)) ? undefined : '0, or 64–262144'),
    });
    if (snap === undefined) return undefined;
    const mode = await pick(
      title,
      7,
      steps,
      'Capture on',
      [
        { label: 'Whole node, filtered by pod IPs', description: "Retina's way", value: 'node' as const },
        {
          label: "The pods' own interfaces",
          description: 'only their traffic, also pod-to-pod on the node',
          value: 'pod' as const,
        },
      ],
      last.mode,
    );
    if (mode === undefined) return undefined;
    Object.assign(choices, { maxSizeMB: Number(size), snapLength: Number(snap), mode });
    if (crd) {
      const via = await pick(
        title,
        8,
        steps,
        'Start through',
        [
          { label: 'Capture Jobs', description: "this extension's worker (default)", value: 'jobs' as const },
          {
            label: 'Retina operator (Capture resource)',
            description: "Retina's own capture image runs; the extension follows the Capture",
            value: 'captureResource' as const,
          },
        ],
        last.via ?? 'jobs',
      );
      if (via === undefined) return undefined;
      choices.via = via;
    }
  }
  await memento.update(key, choices);
  return choices;
}

function input(o: {
  title: string;
  step: number;
  total: number;
  prompt: string;
  value: string;
  placeholder?: string;
  validate: Check;
}): Promise<string | undefined> {
  return new Promise((resolve) => {
    const box = vscode.window.createInputBox();
    Object.assign(box, {
      title: o.title,
      step: o.step,
      totalSteps: o.total,
      prompt: o.prompt,
      value: o.value,
      ignoreFocusOut: true,
    });
    if (o.placeholder) box.placeholder = o.placeholder;
    let done = false;
    const finish = (v: string | undefined): void => {
      if (done) return;
      done = true;
      resolve(v);
      box.dispose();
    };
    box.onDidChangeValue((v) => (box.validationMessage = o.validate(v)));
    box.onDidAccept(() => {
      const problem = o.validate(box.value);
      if (problem) box.validationMessage = problem;
      else finish(box.value);
    });
    box.onDidHide(() => finish(undefined));
    box.validationMessage = o.validate(o.value);
    box.show();
  });
}

function pick<T extends string>(
  title: string,
  step: number,
  total: number,
  placeholder: string,
  items: { label: string; description?: string; value: T }[],
  active: T,
): Promise<T | undefined> {
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<{ label: string; description?: string; value: T }>();
    Object.assign(qp, { title, step, totalSteps: total, placeholder, items, ignoreFocusOut: true });
    qp.activeItems = items.filter((i) => i.value === active);
    let done = false;
    const finish = (v: T | undefined): void => {
      if (done) return;
      done = true;
      resolve(v);
      qp.dispose();
    };
    qp.onDidAccept(() => finish(qp.selectedItems[0]?.value ?? qp.activeItems[0]?.value));
    qp.onDidHide(() => finish(undefined));
    qp.show();
  });
}
