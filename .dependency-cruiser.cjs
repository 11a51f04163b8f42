/**
 * Architecture rules (docs/architecture.md, "The map"): the core never depends on its delivery
 * mechanisms, and each layer of shared/ depends only on the layers below it.
 */
module.exports = {
  forbidden: [
    {
      name: 'shared-is-the-core',
      comment: 'shared/ is the tenant-aware core: it never imports functions/, cli/ or infra/.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(functions|cli|infra)/' },
    },
    {
      name: 'functions-do-not-import-cli-or-infra',
      comment: 'A Lambda function bundles only its own code and shared/.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^(cli|infra)/' },
    },
    {
      name: 'functions-do-not-import-each-other',
      comment: 'Each function is its own bundle; what two of them share belongs in shared/.',
      severity: 'error',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^functions/', pathNot: '^functions/$1/' },
    },
    {
      name: 'domain-is-self-contained',
      comment: 'shared/domain/ (entities, vocabulary, errors) imports nothing else from shared/.',
      severity: 'error',
      from: { path: '^shared/domain/' },
      to: { path: '^shared/', pathNot: '^shared/domain/' },
    },
    {
      name: 'ports-are-contracts',
      comment: 'A port describes what the core needs; it never depends on who implements or uses it.',
      severity: 'error',
      from: { path: '^shared/ports/' },
      to: { path: '^shared/(adapters|usecases|repositories|rag|composition|http)/' },
    },
    {
      name: 'usecases-do-not-build-adapters',
      comment: 'Use cases get their adapters injected (composition/ builds them).',
      severity: 'error',
      from: { path: '^shared/usecases/' },
      to: { path: '^shared/(adapters|composition|http)/' },
    },
    {
      name: 'repositories-are-below-usecases',
      comment: 'Repositories map rows to entities; they know neither use cases nor adapters.',
      severity: 'error',
      from: { path: '^shared/repositories/' },
      to: { path: '^shared/(usecases|adapters|composition|http)/' },
    },
    {
      name: 'rag-is-below-usecases',
      comment: 'Text processing (extract, chunk, fetch, embed) knows no use case, repository or adapter.',
      severity: 'error',
      from: { path: '^shared/rag/' },
      to: { path: '^shared/(usecases|repositories|adapters|composition|http)/' },
    },
    {
      name: 'adapters-do-not-call-usecases',
      comment: 'Adapters are outbound implementations of ports; inbound HTTP lives in shared/http/.',
      severity: 'error',
      from: { path: '^shared/adapters/' },
      to: { path: '^shared/(usecases|composition|http)/' },
    },
    ...['chunking', 'embedding', 'extract', 'fetch'].map((feature) => ({
      name: `rag-${feature}-front-door`,
      comment: `Outside code uses shared/rag/${feature}/ through its index.ts only.`,
      severity: 'error',
      from: { pathNot: `^shared/rag/${feature}/` },
      to: { path: `^shared/rag/${feature}/`, pathNot: `^shared/rag/${feature}/index\\.ts$` },
    })),
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
