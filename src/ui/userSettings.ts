// Reads the settings a workspace must not choose (src/views/userSettings.ts says why).
import * as vscode from 'vscode';
import { SETTINGS } from '../views/ids.js';
import { userValue, type UserOnlySetting } from '../views/userSettings.js';

export function userSetting<T>(key: UserOnlySetting, fallback: T): T {
  return userValue(vscode.workspace.getConfiguration(SETTINGS.section).inspect<T>(SETTINGS[key]), fallback);
}
