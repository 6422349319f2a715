// The Helm behaviours our chart depends on, and what the harness (test/helm/render.ts) reads back from a real
// `helm template`: each test pins one on a scratch chart, so a Helm 3/4 difference or a harness mistake shows
// up here rather than as a surprise at install.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { MISSING_HELM, findHelm, helm } from './helm-binary.js';
import { type RenderOptions, runRenderer } from './render.js';

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

describe('helm template, as the chart tests read it', () => {
  it('reads values.yaml numbers as float64: 1e+06 unless piped through int (why the chart pipes through int)', () => {
    const text = out({
      'values.yaml': 'big: 1000000\nsmall: 8080\n',
      'templates/out.yaml': 'a: {{ .Values.big }}\nb: {{ .Values.big | int }}\nc: {{ .Values.small }}\n',
    });
    expect(text).toBe('a: 1e+06\nb: 1000000\nc: 8080');
  });

  it('merges user values into defaults key by key; a user null deletes a default; lists are replaced', () => {
    const text = out(
      {
        'values.yaml': 'a:\n  keep: 1\n  drop: 2\n  over: 3\nlist: [1, 2]\n',
        'templates/out.yaml': 'v: {{ toJson .Values }}',
      },
      { values: { a: { drop: null, over: 'x', add: true }, list: [9] } },
    );
    expect(parseYaml(text)).toEqual({ v: { a: { keep: 1, over: 'x', add: true }, list: [9] } });
  });

  it('returns the merged values, as Helm rendered them, next to the manifests', () => {
    const result = runRenderer({
      chartDir: chartWith({ 'values.yaml': 'a: {b: 1, c: 2}\n', 'templates/out.yaml': 'kind: X' }),
      values: { a: { c: null, d: 'four' } },
    });
    expect(result.ok && result.rendered.values).toEqual({ a: { b: 1, d: 'four' } });
  });

  it('--set-file puts the file text at a dotted key, byte for byte', () => {
    const file = path.join(scratch, 'set-file.txt');
    writeFileSync(file, 'line 1\n  line 2\n');
    const text = out(
      { 'templates/out.yaml': 'text: {{ toJson .Values.config.text }}' },
      { setFiles: { 'config.text': file } },
    );
    expect(parseYaml(text)).toEqual({ text: 'line 1\n  line 2\n' });
  });

  it('include and tpl render named templates and strings with the same values', () => {
    const text = out({
      'values.yaml': 'who: world\ngreeting: "hello {{ .Values.who }}"\n',
      'templates/_helpers.tpl': '{{- define "demo.name" -}}{{ .Chart.Name }}-{{ .Values.who }}{{- end -}}',
      'templates/out.yaml': 'a: {{ include "demo.name" . | upper }}\nb: {{ tpl .Values.greeting . }}\n',
    });
    expect(text).toBe('a: DEMO-WORLD\nb: hello world');
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
      'a: []\nb: []',
    );
  });

  it('provides .Release, .Chart, .Capabilities, .Template and .Files', () => {
    const text = out(
      {
        'files/greeting.txt': 'hi',
        'templates/out.yaml': [
          'release: {{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.Service }} {{ .Release.IsInstall }}',
          'chart: {{ .Chart.Name }} {{ .Chart.Version }} {{ .Chart.AppVersion }}',
          'capabilities: {{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.KubeVersion.Minor }} {{ .Capabilities.APIVersions.Has "policy/v1" }} {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}',
          'template: {{ .Template.Name }} {{ .Template.BasePath }}',
          'files: {{ .Files.Get "files/greeting.txt" }} [{{ .Files.Get "values.yaml" }}]',
        ].join('\n'),
      },
      { releaseName: 'rel', namespace: 'ns', kubeVersion: 'v1.30.2' },
    );
    expect(text.split('\n')).toEqual([
      'release: rel ns Helm true',
      'chart: demo 1.2.3 4.5',
      'capabilities: v1.30.2 30 true false',
      'template: demo/templates/out.yaml demo/templates',
      // values.yaml is not one of .Files in Helm.
      'files: hi []',
    ]);
  });

  it('lookup finds nothing without a cluster', () => {
    expect(out({ 'templates/out.yaml': 'n: {{ len (lookup "v1" "Secret" "ns" "x") }}' })).toBe('n: 0');
  });

  it('does not output partials; returns NOTES.txt apart from the manifests', () => {
    const result = runRenderer({
      chartDir: chartWith({
        'templates/_helpers.tpl': 'kind: ShouldNotAppear',
        'templates/NOTES.txt': 'Installed {{ .Release.Name }} in {{ .Release.Namespace }}.\n---\n<done>',
        'templates/out.yaml': 'kind: X',
        'templates/empty.yaml': '{{- if false }}kind: Y{{ end }}',
      }),
    });
    expect(result.ok && result.rendered.manifests.map((m) => m.source)).toEqual(['demo/templates/out.yaml']);
    expect(result.ok && result.rendered.notes).toBe('Installed gw in tekton-gateway.\n---\n<done>');
  });

  it('splits a template with several documents into one manifest each', () => {
    const result = runRenderer({
      chartDir: chartWith({ 'templates/out.yaml': 'kind: A\n---\nkind: B\n' }),
    });
    expect(result.ok && result.rendered.manifests).toEqual([
      { source: 'demo/templates/out.yaml', content: 'kind: A' },
      { source: 'demo/templates/out.yaml', content: 'kind: B' },
    ]);
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

  it('runs Helm 3 or 4', () => {
    expect(helm().version).toMatch(/^v[34]\.\d+\.\d+/);
  });
});

describe('which helm runs', () => {
  it('a helm on PATH wins', () => {
    const bin = path.join(scratch, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'helm'), '#!/bin/sh\necho v3.99.0\n');
    chmodSync(path.join(bin, 'helm'), 0o755);
    expect(findHelm({ pathEnv: `${path.join(scratch, 'no-such-dir')}${path.delimiter}${bin}` })).toBe(
      path.join(bin, 'helm'),
    );
  });

  it('without one on PATH and off linux-x64, fails saying how to get Helm instead of skipping', () => {
    const find = () =>
      findHelm({ pathEnv: path.join(scratch, 'no-such-dir'), platform: 'darwin', arch: 'arm64' });
    expect(find).toThrow(MISSING_HELM);
    expect(find).toThrow(/only ships linux-x64; this is darwin-arm64/);
  });

  it('without one on PATH and without the layer package, names the missing file', () => {
    const find = () =>
      findHelm({
        pathEnv: '',
        platform: 'linux',
        arch: 'x64',
        layerDir: path.join(scratch, 'no-layer'),
        cacheDir: path.join(scratch, 'cache'),
      });
    expect(find).toThrow(MISSING_HELM);
    expect(find).toThrow(/no-layer\/lib\/layer\.zip is missing/);
  });
});
