// Settings that pick what runs (the privileged worker image, the Wireshark binary) or where
// credentials and files live (kubeconfig, download folder) are the user's alone: a cloned
// repository's .vscode/settings.json must not choose them. package.json gives them
// application/machine scope; the readers also take only the user value, in case an old VS Code
// or a profile still hands a workspace value through.

/** Scopes package.json must declare (checked by a unit test). */
export const USER_ONLY_SETTINGS = {
  workerImage: 'application',
  kubeconfig: 'machine',
  downloadFolder: 'machine',
  wiresharkPath: 'machine',
} as const;

export type UserOnlySetting = keyof typeof USER_ONLY_SETTINGS;

/** The shape of vscode's WorkspaceConfiguration.inspect() that matters here. */
export interface InspectedSetting<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

/** The user's (global) value, else the default: workspace and folder values never count. */
export function userValue<T>(inspected: InspectedSetting<T> | undefined, fallback: T): T {
  return inspected?.globalValue ?? inspected?.defaultValue ?? fallback;
}
