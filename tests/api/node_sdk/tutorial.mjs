// The tutorial's flow with the AWS SDK for JavaScript v3, against `statewright serve`:
// deploy the functions, invoke one, validate, create, start, describe, history, list, an
// error, a synchronous Express execution, clean up. Prints one JSON object of what it saw.
// Usage: node tutorial.mjs '{"endpoint", "role", "name", "definition", "functions": {NAME: ZIP}}'
import { readFileSync } from "node:fs";
import {
  CreateStateMachineCommand, DeleteStateMachineCommand, DescribeExecutionCommand,
  GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand,
  StartSyncExecutionCommand, ValidateStateMachineDefinitionCommand,
} from "@aws-sdk/client-sfn";
import {
  CreateFunctionCommand, DeleteFunctionCommand, InvokeCommand, LambdaClient,
} from "@aws-sdk/client-lambda";

const config = JSON.parse(process.argv[2]);
const common = {
  endpoint: config.endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
};
// StartSyncExecution (and TestState) carry the host prefix "sync-": off, or the SDK calls
// sync-127.0.0.1, which does not resolve (docs/howto.md, "SDKs and the sync- host prefix").
const sfn = new SFNClient({ ...common, disableHostPrefix: true });
const lambda = new LambdaClient(common);
const out = {};

for (const [name, zip] of Object.entries(config.functions)) {
  await lambda.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: "nodejs20.x", Handler: `${name}.handler`, Role: config.role,
    Code: { ZipFile: readFileSync(zip) },
  }));
}
const invoked = await lambda.send(new InvokeCommand({
  FunctionName: "updateOrderStatus",
  Payload: new TextEncoder().encode(JSON.stringify({ orderId: "o-1" })),
}));
out.invoke = {
  status: invoked.StatusCode,
  payload: JSON.parse(new TextDecoder().decode(invoked.Payload)),
};

const definition = readFileSync(config.definition, "utf8");
out.validate = (await sfn.send(new ValidateStateMachineDefinitionCommand({ definition }))).result;
const machine = await sfn.send(new CreateStateMachineCommand({
  name: config.name, definition, roleArn: config.role,
}));
const started = await sfn.send(new StartExecutionCommand({
  stateMachineArn: machine.stateMachineArn, input: JSON.stringify({ orderId: "o-2" }),
}));
let described;
const deadline = Date.now() + 60_000;
for (;;) {
  described = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
  if (described.status !== "RUNNING" || Date.now() > deadline) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
out.execution = {
  status: described.status, output: described.output ?? null,
  error: described.error ?? null, cause: described.cause ?? null,
};
const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }));
out.history = history.events.map((event) => event.type);
const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine.stateMachineArn }));
out.listed = listed.executions.map((execution) => execution.executionArn);
out.executionArn = started.executionArn;
try {
  await sfn.send(new DescribeExecutionCommand({ executionArn: `${started.executionArn}-gone` }));
  out.missing = null;
} catch (error) {
  out.missing = error.name;
}

const express = await sfn.send(new CreateStateMachineCommand({
  name: `${config.name}-express`, type: "EXPRESS", definition, roleArn: config.role,
}));
const sync = await sfn.send(new StartSyncExecutionCommand({
  stateMachineArn: express.stateMachineArn, input: JSON.stringify({ orderId: "o-3" }),
}));
out.sync = { status: sync.status, output: sync.output ?? null, error: sync.error ?? null };

for (const arn of [machine.stateMachineArn, express.stateMachineArn]) {
  await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
}
for (const name of Object.keys(config.functions)) {
  await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
}
console.log(JSON.stringify(out));
