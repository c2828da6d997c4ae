import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'test-results/', 'playwright-report/', 'node_modules/'] },
  js.configs.recommended,
  ts.configs.strictTypeChecked,
  ts.configs.stylisticTypeChecked,
  svelte.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js'] },
        extraFileExtensions: ['.svelte'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser } },
    // svelte-check type-checks these files, globals and component props included;
    // the linter's TypeScript program cannot see a .svelte import's types and would call them `any`.
    rules: {
      'no-undef': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['src/bindings/**'],
    // Written exactly as ts-rs generates them, so the Rust side can regenerate and compare.
    rules: {
      '@typescript-eslint/consistent-type-definitions': 'off',
      '@typescript-eslint/array-type': 'off',
    },
  },
  {
    files: ['src/**'],
    ignores: ['src/lib/ipc.ts'],
    rules: {
      // The IPC boundary lives in one file so errors are typed in one place.
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@tauri-apps/api', '@tauri-apps/api/*'], message: 'Use src/lib/ipc.ts.' }] },
      ],
    },
  },
  {
    // The WebDriver suite of the real app runs in Node (JSDoc-typed JavaScript, checked by e2e/tsconfig.json).
    files: ['e2e/**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['eslint.config.js'],
    extends: [ts.configs.disableTypeChecked],
  },
);
