// The command-line contract (§7 of the gateway's contract) as data: the parser, `--help`, the README and
// the Helm chart tests all read it from here, so a flag cannot exist in one place and not the others.

export interface FlagSpec {
  /** Long name without dashes, e.g. `routes`. */
  readonly name: string;
  /** Single-letter alias without the dash, e.g. `o`. */
  readonly short?: string;
  /** Placeholder shown in help when the flag takes a value; absent for boolean flags. */
  readonly value?: string;
  /** Environment variable that supplies the value when the flag is not given. */
  readonly env?: string;
  readonly default?: string;
  /** Allowed values, checked by the parser. */
  readonly choices?: readonly string[];
  readonly repeatable?: boolean;
  readonly required?: boolean;
  /** The value must be a whole number (ports, seconds); checked by the parser. */
  readonly integer?: boolean;
  readonly help: string;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly flags: readonly FlagSpec[];
  /** Positional arguments: a name for help and how many are required. */
  readonly positionals?: { readonly name: string; readonly min: number };
}

const routesFlag: FlagSpec = {
  name: 'routes',
  value: 'FILE',
  env: 'ROUTES_FILE',
  default: './routes.yaml',
  help: 'routes.yaml to load',
};

export const SERVE: CommandSpec = {
  name: 'serve',
  summary: 'Serve webhooks: match routes, verify, filter, bind, render and create runs.',
  flags: [
    routesFlag,
    {
      name: 'port',
      value: 'N',
      integer: true,
      env: 'PORT',
      default: '8080',
      help: 'webhook port (also /healthz, /readyz)',
    },
    {
      name: 'admin-port',
      value: 'N',
      integer: true,
      env: 'ADMIN_PORT',
      default: '9090',
      help: 'admin port: /metrics, /routes, /healthz, /readyz',
    },
    {
      name: 'dry-run',
      env: 'DRY_RUN',
      help: 'create nothing and need no cluster; answer `rendered` with the objects',
    },
    {
      name: 'server-dry-run',
      help: 'send every create with dryRun=All: the API server validates, nothing is stored',
    },
    {
      name: 'secrets-dir',
      value: 'DIR',
      env: 'SECRETS_DIR',
      default: '/etc/tekton-gateway/secrets',
      help: 'where secretRef files live: DIR/<secretName>/<secretKey>',
    },
    {
      name: 'log-level',
      value: 'LEVEL',
      env: 'LOG_LEVEL',
      default: 'info',
      choices: ['debug', 'info', 'warn', 'error'],
      help: 'log level',
    },
    {
      name: 'drain-delay',
      value: 'SECONDS',
      integer: true,
      env: 'DRAIN_DELAY_SECONDS',
      default: '5',
      help: 'on SIGTERM, keep serving this long with /readyz at 503 so endpoints can update',
    },
    {
      name: 'shutdown-timeout',
      value: 'SECONDS',
      integer: true,
      env: 'SHUTDOWN_TIMEOUT_SECONDS',
      default: '25',
      help: 'on SIGTERM, exit 1 if in-flight requests have not finished by then',
    },
    // Extensions to contract §7 (docs/operations.md, "Limits and fairness").
    {
      name: 'max-in-flight',
      value: 'N',
      env: 'MAX_IN_FLIGHT',
      default: '64',
      help: 'webhooks worked on at once; more wait up to 2 s for a slot, then get 503 with Retry-After',
    },
    {
      name: 'max-in-flight-per-route',
      value: 'N',
      env: 'MAX_IN_FLIGHT_PER_ROUTE',
      help: 'webhooks worked on at once for one route, so a noisy route cannot take every slot (default: half of --max-in-flight)',
    },
    {
      name: 'admin-token-file',
      value: 'FILE',
      env: 'ADMIN_TOKEN_FILE',
      help: 'file holding the admin token: PUT /loglevel needs it (Bearer), the deliveries page and API need it (without it they answer 404)',
    },
    {
      name: 'state-key-file',
      value: 'FILE',
      env: 'STATE_KEY_FILE',
      help: 'key that signs created runs; following runs (status, keep, concurrency) is off without it',
    },
    {
      name: 'follow',
      value: 'MODE',
      env: 'FOLLOW',
      default: 'on',
      choices: ['on', 'log', 'off'],
      help: 'follow created runs (status, keep, concurrency); log: decide and log only',
    },
    {
      name: 'status-api-origins',
      value: 'ORIGINS',
      env: 'STATUS_API_ORIGINS',
      help: 'comma-separated scheme://host[:port] that status.apiURL may name',
    },
  ],
};

export const VALIDATE: CommandSpec = {
  name: 'validate',
  summary: 'Check routes.yaml files and report every problem with its location.',
  flags: [
    {
      name: 'secrets-dir',
      value: 'DIR',
      env: 'SECRETS_DIR',
      help: 'also check that every secretRef file exists under DIR',
    },
  ],
  positionals: { name: 'FILE', min: 1 },
};

export const RENDER: CommandSpec = {
  name: 'render',
  summary: 'Run one recorded request through the serve pipeline (no signature check, no cluster).',
  flags: [
    { ...routesFlag, env: undefined, default: undefined, required: true },
    { name: 'path', value: 'PATH', required: true, help: 'request path, e.g. /gitlab' },
    {
      name: 'header',
      short: 'H',
      value: "'Name: value'",
      repeatable: true,
      help: 'request header; repeat for several',
    },
    { name: 'body', value: 'FILE|-', required: true, help: 'request body file, or - for stdin' },
    {
      name: 'explain',
      help: "print each expression's result and each param's value on stderr",
    },
    {
      name: 'output',
      short: 'o',
      value: 'FORMAT',
      default: 'yaml',
      choices: ['yaml', 'json'],
      help: 'yaml: the objects as multi-document YAML; json: the HTTP response plus "status"',
    },
    {
      name: 'secrets-dir',
      value: 'DIR',
      env: 'SECRETS_DIR',
      help: 'secrets for compareSecret() in CEL expressions',
    },
  ],
};

export const ROUTES: CommandSpec = {
  name: 'routes',
  summary: 'Print each route, its triggers and the params of their templates.',
  flags: [routesFlag],
};

export const IMPORT: CommandSpec = {
  name: 'import',
  summary:
    'Turn Tekton Triggers YAML (EventListener, Trigger, bindings, templates, Ingress) into routes.yaml.',
  flags: [],
  positionals: { name: 'FILE', min: 1 },
};

export const COMMANDS: readonly CommandSpec[] = [SERVE, VALIDATE, RENDER, ROUTES, IMPORT];
