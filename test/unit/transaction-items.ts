// Which kinds of item (Put, Update, Delete, ConditionCheck) can a handler put into a DynamoDB
// transaction? IAM authorises a TransactWriteItems call item by item (a Delete item needs
// dynamodb:DeleteItem…), so the TransactWrite operation alone does not say which actions a role needs.
//
// Transaction items are plain object literals `{ Delete: {…} }` built wherever the code builds them
// (inline in TransactItems, in a builder method, or in callers of one shared `transactWrite(items)`
// helper), so the analysis looks for the item-kind keys themselves, not for function names. To
// decide which of them are reachable it reuses test/support/sdk-calls.ts unchanged: each item value
// is wrapped in a marker `new TransactItem<Kind>Command(…)` imported from a pseudo `@aws-sdk/*`
// module, and the same reachability that finds SDK commands finds the markers.
import ts from 'typescript';
import { bundleForAnalysis, sdkCallsInBundle } from '../support/sdk-calls.ts';

export const TRANSACTION_ITEM_KINDS = ['Put', 'Update', 'Delete', 'ConditionCheck'] as const;
export type TransactionItemKind = (typeof TRANSACTION_ITEM_KINDS)[number];

const MARKER_MODULE = '@aws-sdk/transaction-item-marker';
const marker = (kind: TransactionItemKind) => `TransactItem${kind}Command`;
const isKind = (name: string): name is TransactionItemKind => (TRANSACTION_ITEM_KINDS as readonly string[]).includes(name);

/** The bundle with every `Kind: value` / `{ Kind }` property of an object literal wrapped in its marker. */
export function markTransactionItems(code: string): string {
  const source = ts.createSourceFile('bundle.mjs', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const edits: { at: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && isKind(node.name.text)) {
      edits.push({ at: node.initializer.getStart(source), text: `new ${marker(node.name.text)}(` }, { at: node.initializer.end, text: ')' });
    } else if (ts.isShorthandPropertyAssignment(node) && isKind(node.name.text)) {
      edits.push({ at: node.name.end, text: `: new ${marker(node.name.text)}(${node.name.text})` });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  // Apply from the end so earlier offsets stay valid; at equal offsets a closing ")" goes first.
  edits.sort((a, b) => b.at - a.at || (a.text === ')' ? -1 : 1));
  let marked = code;
  for (const edit of edits) marked = marked.slice(0, edit.at) + edit.text + marked.slice(edit.at);
  const imports = TRANSACTION_ITEM_KINDS.map(marker).join(', ');
  return `import { ${imports} } from '${MARKER_MODULE}';\n${marked}`;
}

/** The item kinds reachable code can build, with the units that build them. */
export function transactionItemKindsInBundle(code: string): { kind: TransactionItemKind; units: string[] }[] {
  return sdkCallsInBundle(markTransactionItems(code))
    .filter((call) => call.module === MARKER_MODULE)
    .map((call) => ({ kind: call.operation.replace(/^TransactItem/, '') as TransactionItemKind, units: call.units }));
}

export async function transactionItemKindsOf(entry: string): Promise<{ kind: TransactionItemKind; units: string[] }[]> {
  return transactionItemKindsInBundle(await bundleForAnalysis(entry));
}
