/** The small policy the gate's unit tests share: one rule per mechanism (allow, escalate, deny, labels, counts). */
export const HOME = "/Users/dev";
export const POLICY = `bundle: {id: unit, version: 1}
defaults: {effect: escalate, risk_threshold: 50}
rules:
  - {id: ls, match: {kind: shell, program: ls}, effect: allow}
  - {id: cat, match: {kind: shell, program: cat}, effect: allow}
  - {id: echo, match: {kind: shell, program: echo}, effect: allow}
  - {id: risky-allow, match: {kind: shell, program: make}, effect: allow, risk: 60}
  - {id: esc-ls-etc, match: {kind: shell, program: ls, paths: [/etc/**]}, effect: escalate}
  - {id: deny-rm-root, match: {kind: shell, program: rm, flags: [-r], paths: ["/"]}, effect: deny, risk: 100}
  - id: secret
    match: {kind: [shell, file.read], paths: ["~/.ssh/**"]}
    effect: escalate
    labels: [secret-read]
  - {id: curl, match: {kind: shell, program: curl}, effect: allow}
  - id: exfil
    match: {kind: shell, program: curl, hosts_not: [good.example]}
    when: {labels: [secret-read]}
    effect: deny
  - id: burst
    match: {kind: http}
    when: {count: {kind: http, within_s: 60, gte: 3}}
    effect: escalate
  - {id: http, match: {kind: http, methods: [GET]}, effect: allow}
`;
