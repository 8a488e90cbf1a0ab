// Which AWS SDK operations can a Lambda handler send? Computed statically from the code esbuild
// would ship for it, so that the IAM coverage test compares the stacks' permissions with the code
// rather than with a list someone keeps by hand.
//
// 1. esbuild bundles the handler exactly as for Lambda (ESM, node22, tree-shaken, not minified) but
//    with `@aws-sdk/*` left external: the output holds sseguard's code and its libraries (middy,
//    Powertools, zod…) after tree shaking, and every SDK class it uses appears as a named import
//    from an `@aws-sdk/*` module.
// 2. The output is parsed (TypeScript's parser) into units: each top-level function, each
//    top-level class's methods, accessors and function-valued fields (one unit per member name;
//    the constructor and field initializers go under the class's name). Code outside any unit (the
//    module bodies, `export const handler = middy(…)`) is the root.
// 3. Reachability by name: starting from the root, a unit is reachable when its name is referenced
//    (as an identifier or a property name) by reachable code; its own references are then added.
//    This over-approximates (any `.get(` reaches every method named `get`), never under-approximates
//    except through names computed at run time, which sseguard's code does not use for SDK calls.
// 4. In reachable units, `new <X>Command(…)`, `paginate<X>(…)` and `waitUntil<X>(…)` whose callee
//    is an import from `@aws-sdk/*` are the operations the handler can send. A paginator sends its
//    operation; a waiter sends the describe call it polls.
import { build } from 'esbuild';
import ts from 'typescript';

export interface SdkCall {
  /** `@aws-sdk/client-s3`, `@aws-sdk/lib-dynamodb`, … */
  module: string;
  /** The operation: `HeadObject`, `TransactWrite` (lib-dynamodb's name), `ListObjectsV2`… */
  operation: string;
  via: 'command' | 'paginator' | 'waiter';
  /** The reachable units (function, or method/field of a class, by name) that contain the call. */
  units: string[];
}

/** Waiters poll one describe operation. */
const WAITER_OPERATIONS: Record<string, string> = { TableExists: 'DescribeTable', TableNotExists: 'DescribeTable' };

export async function bundleForAnalysis(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    treeShaking: true,
    minify: false,
    external: ['@aws-sdk/*'],
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

interface Unit {
  name: string;
  nodes: ts.Node[];
}

export function sdkCallsInBundle(code: string): SdkCall[] {
  const source = ts.createSourceFile('bundle.mjs', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const sdkImports = new Map<string, { module: string; imported: string }>();
  const units: Unit[] = [];
  const root: ts.Node[] = [];

  const addClass = (className: string | undefined, node: ts.ClassLikeDeclaration) => {
    const initialisers: ts.Node[] = [];
    for (const member of node.members) {
      const memberName = member.name && (ts.isIdentifier(member.name) || ts.isPrivateIdentifier(member.name) || ts.isStringLiteral(member.name)) ? member.name.text : undefined;
      const isFunctionLike =
        ts.isMethodDeclaration(member) ||
        ts.isGetAccessor(member) ||
        ts.isSetAccessor(member) ||
        (ts.isPropertyDeclaration(member) && member.initializer !== undefined && (ts.isArrowFunction(member.initializer) || ts.isFunctionExpression(member.initializer)));
      if (isFunctionLike && memberName) units.push({ name: memberName, nodes: [member] });
      else initialisers.push(member);
    }
    if (node.heritageClauses) initialisers.push(...node.heritageClauses);
    if (className) units.push({ name: className, nodes: initialisers });
    else root.push(...initialisers);
  };

  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier) && statement.moduleSpecifier.text.startsWith('@aws-sdk/')) {
      const bindings = statement.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) {
          sdkImports.set(element.name.text, { module: statement.moduleSpecifier.text, imported: (element.propertyName ?? element.name).text });
        }
      }
      continue;
    }
    if (ts.isFunctionDeclaration(statement) && statement.name) {
      units.push({ name: statement.name.text, nodes: [statement] });
      continue;
    }
    if (ts.isClassDeclaration(statement)) {
      addClass(statement.name?.text, statement);
      continue;
    }
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        const init = declaration.initializer;
        const name = ts.isIdentifier(declaration.name) ? declaration.name.text : undefined;
        if (name && init && (ts.isFunctionExpression(init) || ts.isArrowFunction(init))) units.push({ name, nodes: [init] });
        else if (name && init && ts.isClassExpression(init)) addClass(name, init);
        else if (init) root.push(init);
      }
      continue;
    }
    root.push(statement);
  }

  const namesIn = (nodes: ts.Node[]): Set<string> => {
    const names = new Set<string>();
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) names.add(node.text);
      else if (ts.isElementAccessExpression(node) && ts.isStringLiteral(node.argumentExpression)) names.add(node.argumentExpression.text);
      ts.forEachChild(node, visit);
    };
    nodes.forEach(visit);
    return names;
  };

  const referenced = namesIn(root);
  const reachable: { name: string; nodes: ts.Node[] }[] = [{ name: '(module)', nodes: root }];
  const pending = [...units];
  for (let grew = true; grew; ) {
    grew = false;
    for (let i = pending.length - 1; i >= 0; i--) {
      const unit = pending[i]!;
      if (!referenced.has(unit.name)) continue;
      pending.splice(i, 1);
      reachable.push(unit);
      for (const name of namesIn(unit.nodes)) referenced.add(name);
      grew = true;
    }
  }

  const calls = new Map<string, SdkCall>();
  let unitName = '';
  const visit = (node: ts.Node): void => {
    const callee = ts.isNewExpression(node) || ts.isCallExpression(node) ? node.expression : undefined;
    const imported = callee && ts.isIdentifier(callee) ? sdkImports.get(callee.text) : undefined;
    if (imported) {
      const { module, imported: name } = imported;
      let call: Omit<SdkCall, 'units'> | undefined;
      if (ts.isNewExpression(node) && name.endsWith('Command')) call = { module, operation: name.slice(0, -'Command'.length), via: 'command' };
      else if (ts.isCallExpression(node) && name.startsWith('paginate')) call = { module, operation: name.slice('paginate'.length), via: 'paginator' };
      else if (ts.isCallExpression(node) && name.startsWith('waitUntil')) {
        const waited = name.slice('waitUntil'.length);
        call = { module, operation: WAITER_OPERATIONS[waited] ?? waited, via: 'waiter' };
      }
      if (call) {
        const id = `${call.module} ${call.operation}`;
        const known = calls.get(id);
        if (known) {
          if (!known.units.includes(unitName)) known.units.push(unitName);
        } else calls.set(id, { ...call, units: [unitName] });
      }
    }
    ts.forEachChild(node, visit);
  };
  for (const unit of reachable) {
    unitName = unit.name;
    unit.nodes.forEach(visit);
  }
  return [...calls.values()].sort((a, b) => `${a.module} ${a.operation}`.localeCompare(`${b.module} ${b.operation}`));
}

export async function sdkCallsOf(entry: string): Promise<SdkCall[]> {
  return sdkCallsInBundle(await bundleForAnalysis(entry));
}
