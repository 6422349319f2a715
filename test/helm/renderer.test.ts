// The stand-in for `helm template` must behave like Helm where our chart depends on it; each test pins one
// Helm behaviour on a scratch chart, so a difference shows up here rather than as a surprise at install.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type RenderOptions, requireToolchain, runRenderer } from './render.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'tekton-gateway-renderer-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let charts = 0;

/** A chart with one template (templates/out.yaml unless named) and the given files; returns its directory. */
function chartWith(
  files: Record<string, string>,
  chartYaml = 'apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: "4.5"\n',
): string {
  const dir = path.join(scratch, `chart-${++charts}`);
  for (const [name, text] of Object.entries({ 'Chart.yaml': chartYaml, 'values.yaml': '', ...files })) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** Renders templates/out.yaml of a scratch chart and returns its text. */
function out(files: Record<string, string>, options: Omit<RenderOptions, 'chartDir'> = {}): string {
  const result = runRenderer({ ...options, chartDir: chartWith(files) });
  if (!result.ok) throw new Error(result.error);
  const manifest = result.rendered.manifests.find((m) => m.source === 'demo/templates/out.yaml');
  return manifest?.content ?? '';
}

function failure(
  files: Record<string, string>,
  options: Omit<RenderOptions, 'chartDir'> = {},
  chartYaml?: string,
): string {
  const result = runRenderer({ ...options, chartDir: chartWith(files, chartYaml) });
  return result.ok ? 'rendered without error' : result.error;
}

describe('test/helm/render behaves like helm template', () => {
  it('reads values.yaml numbers as float64, like Helm: 1e+06 unless piped through int', () => {
    const text = out({
      'values.yaml': 'big: 1000000\nsmall: 8080\n',
      'templates/out.yaml': 'a: {{ .Values.big }}\nb: {{ .Values.big | int }}\nc: {{ .Values.small }}\n',
    });
    expect(text).toBe('a: 1e+06\nb: 1000000\nc: 8080\n');
  });

  it('toYaml: sorted keys, integers without exponent, YAML 1.1 booleans quoted, two-space indent, no trailing newline', () => {
    const text = out({
      'values.yaml': 'm:\n  z: 26214400\n  a: [x, y]\n  s: "on"\n',
      'templates/out.yaml': 'm:\n  {{- toYaml .Values.m | nindent 2 }}\nend: true\n',
    });
    expect(text).toBe('m:\n  a:\n    - x\n    - "y"\n  s: "on"\n  z: 26214400\nend: true\n');
  });

  it('merges user values into defaults key by key; a user null deletes a default', () => {
    const text = out(
      {
        'values.yaml': 'a:\n  keep: 1\n  drop: 2\n  over: 3\nlist: [1, 2]\n',
        'templates/out.yaml': '{{ toJson .Values }}',
      },
      { values: { a: { drop: null, over: 'x', add: true }, list: [9] } },
    );
    expect(JSON.parse(text)).toEqual({ a: { keep: 1, over: 'x', add: true }, list: [9] });
  });

  it('--set-file puts the file text at a dotted key', () => {
    const file = path.join(scratch, 'set-file.txt');
    writeFileSync(file, 'line 1\n  line 2\n');
    const text = out(
      { 'templates/out.yaml': '{{ toJson .Values.config.text }}' },
      { setFiles: { 'config.text': file } },
    );
    expect(JSON.parse(text)).toBe('line 1\n  line 2\n');
  });

  it('include and tpl render named templates and strings with the same functions', () => {
    const text = out({
      'values.yaml': 'who: world\ngreeting: "hello {{ .Values.who }}"\n',
      'templates/_helpers.tpl': '{{- define "demo.name" -}}{{ .Chart.Name }}-{{ . | typeOf }}{{- end -}}',
      'templates/out.yaml': 'a: {{ include "demo.name" . | upper }}\nb: {{ tpl .Values.greeting . }}\n',
    });
    expect(text).toBe('a: DEMO-MAP[STRING]INTERFACE {}\nb: hello world\n');
  });

  it('required and fail stop rendering with their message', () => {
    expect(failure({ 'templates/out.yaml': '{{ required "x is required" .Values.x }}' })).toMatch(
      /x is required/,
    );
    expect(
      failure({ 'values.yaml': 'x: ""\n', 'templates/out.yaml': '{{ required "empty x" .Values.x }}' }),
    ).toMatch(/empty x/);
    expect(failure({ 'templates/out.yaml': '{{ fail "no way" }}' })).toMatch(/no way/);
  });

  it('renders a missing key as empty, never <no value>', () => {
    expect(out({ 'templates/out.yaml': 'a: [{{ .Values.nope }}]\nb: [{{ .Chart.Icon }}]\n' })).toBe(
      'a: []\nb: []\n',
    );
  });

  it('provides .Release, .Chart, .Capabilities, .Template and .Files', () => {
    const text = out(
      {
        'files/greeting.txt': 'hi',
        'templates/out.yaml': [
          '{{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.Service }} {{ .Release.IsInstall }}',
          '{{ .Chart.Name }} {{ .Chart.Version }} {{ .Chart.AppVersion }}',
          '{{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.KubeVersion.Minor }} {{ .Capabilities.APIVersions.Has "policy/v1" }} {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}',
          '{{ .Template.Name }} {{ .Template.BasePath }}',
          '{{ .Files.Get "files/greeting.txt" }} [{{ .Files.Get "values.yaml" }}]',
        ].join('\n'),
      },
      { releaseName: 'rel', namespace: 'ns', kubeVersion: 'v1.30.2' },
    );
    expect(text.split('\n')).toEqual([
      'rel ns Helm true',
      'demo 1.2.3 4.5',
      'v1.30.2 30 true false',
      'demo/templates/out.yaml demo/templates',
      // values.yaml is not one of .Files in Helm.
      'hi []',
    ]);
  });

  it('fromYaml reports bad YAML as an Error key; lookup finds nothing without a cluster', () => {
    const text = out({
      'templates/out.yaml':
        '{{ hasKey (fromYaml "a: [") "Error" }} {{ (fromYaml "a: 1").a }} {{ len (lookup "v1" "Secret" "ns" "x") }}',
    });
    expect(text).toBe('true 1 0');
  });

  it('does not output partials; returns NOTES.txt apart from the manifests', () => {
    const result = runRenderer({
      chartDir: chartWith({
        'templates/_helpers.tpl': 'kind: ShouldNotAppear',
        'templates/NOTES.txt': 'Installed {{ .Release.Name }}.',
        'templates/out.yaml': 'kind: X',
        'templates/empty.yaml': '{{- if false }}kind: Y{{ end }}',
      }),
    });
    expect(result.ok && result.rendered.manifests.map((m) => m.source)).toEqual(['demo/templates/out.yaml']);
    expect(result.ok && result.rendered.notes).toBe('Installed gw.');
  });

  it("refuses a Kubernetes version outside Chart.yaml's kubeVersion, like helm install", () => {
    const chartYaml = 'apiVersion: v2\nname: demo\nversion: 1.0.0\nkubeVersion: ">=1.28.0-0"\n';
    expect(failure({ 'templates/out.yaml': 'a: 1' }, { kubeVersion: 'v1.27.3' }, chartYaml)).toMatch(
      /requires kubeVersion: >=1\.28\.0-0 which is incompatible with Kubernetes v1\.27\.3/,
    );
    expect(failure({ 'templates/out.yaml': 'a: 1' }, { kubeVersion: 'v1.28.0' }, chartYaml)).toBe(
      'rendered without error',
    );
  });

  it('refuses a misspelt Chart.yaml key instead of ignoring it', () => {
    expect(
      failure(
        { 'templates/out.yaml': 'a: 1' },
        {},
        'apiVersion: v2\nname: demo\nversion: 1.0.0\nappversion: "1"\n',
      ),
    ).toMatch(/field appversion not found/);
  });

  it('without Go, fails with the command that installs it instead of skipping', () => {
    expect(() => requireToolchain({ PATH: path.join(scratch, 'no-such-dir') })).toThrow(
      /Run \.ci\/run.*apt-get install/s,
    );
    expect(() => requireToolchain(undefined, path.join(scratch, 'empty-gopath'))).toThrow(
      /sprig.*is missing/,
    );
  });
});
