// Command render is a small stand-in for `helm template`, used by the chart tests in test/helm/.
//
// Helm cannot be installed on our machines (no package in npm or Debian, and no downloads), but the engine
// Helm uses is just Go's text/template plus the sprig function library, both of which Debian ships. This
// program uses those two unchanged and re-implements only what Helm adds on top: the functions include, tpl,
// required, fail, toYaml, fromYaml, toJson, fromJson, lookup, and the objects .Values, .Release, .Chart,
// .Capabilities, .Template and .Files. See shared/reference/kubernetes.md §4 for why and for its limits.
//
// It prints one JSON object: {"values": <merged values>, "manifests": [{"source", "content"}], "notes"}, so
// the tests can validate the merged values against values.schema.json exactly as Helm does before rendering.
// Template errors go to stderr with exit code 1, like helm.
//
// Build in GOPATH mode against Debian's packages:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o /tmp/render ./test/helm/render
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

// stringList collects a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	chartDir    string
	valueFiles  []string
	setFiles    []string
	releaseName string
	namespace   string
	kubeVersion string
	apiVersions []string
	upgrade     bool
	valuesOnly  bool
}

func main() {
	var o options
	var valueFiles, setFiles, apiVersions stringList
	flag.StringVar(&o.chartDir, "chart", "helm", "chart directory")
	flag.Var(&valueFiles, "values", "values file merged over values.yaml (repeatable, later wins)")
	flag.Var(&setFiles, "set-file", "KEY=PATH: set a top-level or dotted value to a file's text, like helm --set-file")
	flag.StringVar(&o.releaseName, "name", "release-name", "release name")
	flag.StringVar(&o.namespace, "namespace", "default", "release namespace")
	flag.StringVar(&o.kubeVersion, "kube-version", "v1.31.0", "Kubernetes version for .Capabilities")
	flag.Var(&apiVersions, "api-versions", "extra API version for .Capabilities.APIVersions (repeatable)")
	flag.BoolVar(&o.upgrade, "upgrade", false, "render as an upgrade (.Release.IsUpgrade)")
	flag.BoolVar(&o.valuesOnly, "values-only", false, "print only the merged values, without rendering (for schema checks)")
	flag.Parse()
	o.valueFiles, o.setFiles, o.apiVersions = valueFiles, setFiles, apiVersions

	out, err := render(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

type manifest struct {
	Source  string `json:"source"`
	Content string `json:"content"`
}

type output struct {
	Values    map[string]interface{} `json:"values"`
	Manifests []manifest             `json:"manifests"`
	Notes     string                 `json:"notes"`
}

// chartMetadata mirrors Helm's chart.Metadata, so .Chart.X is "" (not "<no value>") for an absent key, as in Helm.
type chartMetadata struct {
	Name         string                   `yaml:"name"`
	Home         string                   `yaml:"home"`
	Sources      []string                 `yaml:"sources"`
	Version      string                   `yaml:"version"`
	Description  string                   `yaml:"description"`
	Keywords     []string                 `yaml:"keywords"`
	Maintainers  []map[string]interface{} `yaml:"maintainers"`
	Icon         string                   `yaml:"icon"`
	APIVersion   string                   `yaml:"apiVersion"`
	Condition    string                   `yaml:"condition"`
	Tags         string                   `yaml:"tags"`
	AppVersion   string                   `yaml:"appVersion"`
	Deprecated   bool                     `yaml:"deprecated"`
	Annotations  map[string]string        `yaml:"annotations"`
	KubeVersion  string                   `yaml:"kubeVersion"`
	Dependencies []map[string]interface{} `yaml:"dependencies"`
	Type         string                   `yaml:"type"`
}

type kubeVersion struct {
	Version    string
	Major      string
	Minor      string
	GitVersion string
}

func (k kubeVersion) String() string { return k.Version }

type versionSet []string

// Has is what templates call as .Capabilities.APIVersions.Has "group/version".
func (v versionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

type capabilities struct {
	KubeVersion kubeVersion
	APIVersions versionSet
}

// files is .Files: every chart file outside templates/ except the ones Helm keeps apart.
type files map[string][]byte

func (f files) Get(name string) string      { return string(f[name]) }
func (f files) GetBytes(name string) []byte { return f[name] }

func render(o options) (*output, error) {
	chartYAML, err := os.ReadFile(filepath.Join(o.chartDir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	var meta chartMetadata
	dec := yaml.NewDecoder(bytes.NewReader(chartYAML))
	dec.KnownFields(true) // a misspelt Chart.yaml key would be silently ignored by Helm; catch it here
	if err := dec.Decode(&meta); err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	if meta.APIVersion != "v2" || meta.Name == "" || meta.Version == "" {
		return nil, errors.New("Chart.yaml: apiVersion v2, name and version are required")
	}

	values, err := loadValues(o)
	if err != nil {
		return nil, err
	}
	if o.valuesOnly {
		return &output{Values: values, Manifests: []manifest{}}, nil
	}

	caps, err := makeCapabilities(o.kubeVersion, o.apiVersions)
	if err != nil {
		return nil, err
	}
	if meta.KubeVersion != "" {
		// helm install refuses a cluster outside the chart's kubeVersion range; so do we.
		ok, err := sprig.TxtFuncMap()["semverCompare"].(func(string, string) (bool, error))(meta.KubeVersion, caps.KubeVersion.Version)
		if err != nil {
			return nil, fmt.Errorf("Chart.yaml kubeVersion: %w", err)
		}
		if !ok {
			return nil, fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", meta.KubeVersion, caps.KubeVersion.Version)
		}
	}

	templates, chartFiles, err := readChart(o.chartDir)
	if err != nil {
		return nil, err
	}

	basePath := meta.Name + "/templates"
	top := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name":      o.releaseName,
			"Namespace": o.namespace,
			"Service":   "Helm",
			"IsInstall": !o.upgrade,
			"IsUpgrade": o.upgrade,
			"Revision":  1,
		},
		"Chart":        meta,
		"Capabilities": caps,
		"Files":        chartFiles,
	}

	t := template.New("gotpl")
	// Helm renders missing map keys as empty, never "<no value>" (engine.go: missingkey=zero + a replace).
	t.Option("missingkey=zero")
	t.Funcs(funcMap(t))

	names := make([]string, 0, len(templates))
	for name := range templates {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, rel := range names {
		full := meta.Name + "/" + rel
		if _, err := t.New(full).Parse(templates[rel]); err != nil {
			return nil, err
		}
	}

	out := &output{Values: values, Manifests: []manifest{}}
	for _, rel := range names {
		base := filepath.Base(rel)
		if strings.HasPrefix(base, "_") {
			continue // partials only define named templates
		}
		full := meta.Name + "/" + rel
		data := shallowCopy(top)
		data["Template"] = map[string]interface{}{"Name": full, "BasePath": basePath}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, full, data); err != nil {
			return nil, err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			out.Notes = text
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		out.Manifests = append(out.Manifests, manifest{Source: full, Content: text})
	}
	return out, nil
}

func makeCapabilities(version string, extra []string) (capabilities, error) {
	v := strings.TrimPrefix(version, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return capabilities{}, fmt.Errorf("bad -kube-version %q", version)
	}
	apis := versionSet{
		"v1", "apps/v1", "batch/v1", "policy/v1", "autoscaling/v1", "autoscaling/v2",
		"networking.k8s.io/v1", "rbac.authorization.k8s.io/v1",
	}
	apis = append(apis, extra...)
	return capabilities{
		KubeVersion: kubeVersion{Version: "v" + v, Major: parts[0], Minor: parts[1], GitVersion: "v" + v},
		APIVersions: apis,
	}, nil
}

// readChart returns the templates (path relative to the chart, e.g. templates/x.yaml) and .Files.
func readChart(dir string) (map[string]string, files, error) {
	templates := map[string]string{}
	other := files{}
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(rel, "templates/"):
			templates[rel] = string(data)
		case rel == "Chart.yaml" || rel == "values.yaml" || rel == "values.schema.json" || strings.HasPrefix(rel, "charts/"):
			// Helm's loader keeps these out of .Files
		default:
			other[rel] = data
		}
		return nil
	})
	return templates, other, err
}

func loadValues(o options) (map[string]interface{}, error) {
	values, err := readValuesFile(filepath.Join(o.chartDir, "values.yaml"))
	if err != nil {
		return nil, err
	}
	for _, f := range o.valueFiles {
		user, err := readValuesFile(f)
		if err != nil {
			return nil, err
		}
		values = coalesce(values, user)
	}
	for _, kv := range o.setFiles {
		eq := strings.IndexByte(kv, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("-set-file %q: want KEY=PATH", kv)
		}
		data, err := os.ReadFile(kv[eq+1:])
		if err != nil {
			return nil, err
		}
		setPath(values, strings.Split(kv[:eq], "."), string(data))
	}
	return values, nil
}

func readValuesFile(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := parseYAML(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if v == nil {
		return map[string]interface{}{}, nil
	}
	m, ok := v.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: values must be a mapping", path)
	}
	return m, nil
}

// parseYAML decodes YAML the way Helm does (sigs.k8s.io/yaml): through JSON, so every number becomes a
// float64 and every mapping a map[string]interface{}. Templates that forget `int` break here as in Helm.
func parseYAML(data []byte) (interface{}, error) {
	var raw interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	j, err := json.Marshal(stringKeys(raw))
	if err != nil {
		return nil, err
	}
	var v interface{}
	if err := json.Unmarshal(j, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// stringKeys turns yaml.v3's map[interface{}]interface{} (non-string keys) into JSON-encodable maps.
func stringKeys(v interface{}) interface{} {
	switch x := v.(type) {
	case map[string]interface{}:
		for k, e := range x {
			x[k] = stringKeys(e)
		}
		return x
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = stringKeys(e)
		}
		return m
	case []interface{}:
		for i, e := range x {
			x[i] = stringKeys(e)
		}
		return x
	default:
		return v
	}
}

// coalesce merges user values over defaults like Helm: maps merge key by key, anything else replaces, and a
// user null deletes the default.
func coalesce(defaults, user map[string]interface{}) map[string]interface{} {
	out := shallowCopy(defaults)
	for k, uv := range user {
		if uv == nil {
			delete(out, k)
			continue
		}
		um, uIsMap := uv.(map[string]interface{})
		dm, dIsMap := out[k].(map[string]interface{})
		if uIsMap && dIsMap {
			out[k] = coalesce(dm, um)
		} else {
			out[k] = uv
		}
	}
	return out
}

func setPath(values map[string]interface{}, path []string, v interface{}) {
	m := values
	for _, key := range path[:len(path)-1] {
		next, ok := m[key].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			m[key] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

func shallowCopy(m map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// toYAML matches Helm's toYaml (sigs.k8s.io/yaml.Marshal): through JSON, so keys are sorted and integral
// numbers print as integers (not 2.62144e+07), two-space indent, trailing newline trimmed.
func toYAML(v interface{}) (string, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var generic interface{}
	if err := dec.Decode(&generic); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(jsonNumbers(generic)); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func jsonNumbers(v interface{}) interface{} {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]interface{}:
		for k, e := range x {
			x[k] = jsonNumbers(e)
		}
		return x
	case []interface{}:
		for i, e := range x {
			x[i] = jsonNumbers(e)
		}
		return x
	default:
		return v
	}
}

// includeDepthLimit stops runaway recursion, as Helm does (it allows 1000 nested includes).
const includeDepthLimit = 1000

func funcMap(t *template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	// Helm removes these so charts cannot read the machine's environment.
	delete(f, "env")
	delete(f, "expandenv")

	depth := 0
	f["include"] = func(name string, data interface{}) (string, error) {
		if depth >= includeDepthLimit {
			return "", fmt.Errorf("rendering template has a nested reference name: %s: unable to execute template", name)
		}
		depth++
		defer func() { depth-- }()
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := t.Clone()
		if err != nil {
			return "", err
		}
		parsed, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		var buf bytes.Buffer
		if err := parsed.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	f["fail"] = func(msg string) (string, error) { return "", errors.New(msg) }
	f["toYaml"] = func(v interface{}) string {
		s, err := toYAML(v)
		if err != nil {
			return "" // Helm's toYaml swallows errors too; mustToYaml reports them
		}
		return s
	}
	f["mustToYaml"] = toYAML
	f["fromYaml"] = func(s string) map[string]interface{} {
		v, err := parseYAML([]byte(s))
		if err != nil {
			return map[string]interface{}{"Error": err.Error()}
		}
		m, ok := v.(map[string]interface{})
		if !ok {
			if v == nil {
				return map[string]interface{}{}
			}
			return map[string]interface{}{"Error": "error unmarshaling JSON: cannot unmarshal non-object into map"}
		}
		return m
	}
	f["fromYamlArray"] = func(s string) []interface{} {
		v, err := parseYAML([]byte(s))
		if err != nil {
			return []interface{}{err.Error()}
		}
		a, _ := v.([]interface{})
		return a
	}
	f["toJson"] = func(v interface{}) string {
		j, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(j)
	}
	f["fromJson"] = func(s string) map[string]interface{} {
		var m map[string]interface{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return map[string]interface{}{"Error": err.Error()}
		}
		return m
	}
	f["fromJsonArray"] = func(s string) []interface{} {
		var a []interface{}
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			return []interface{}{err.Error()}
		}
		return a
	}
	// helm template has no cluster, so lookup finds nothing; charts must cope with that.
	f["lookup"] = func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	return f
}
