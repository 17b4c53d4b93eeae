export { BaselineServer } from "./baseline.js";
export { measureCreates } from "./create.js";
export { measureCreatesWithDeadNode } from "./deadNode.js";
export { measureGetMeetings } from "./getMeetings.js";
export { measureJoinLatency, measureJoins } from "./join.js";
export { seedMeetings } from "./meetings.js";
export { measurePollCycles } from "./poll.js";
export { measureRefusals } from "./refusals.js";
export { measureRush } from "./rush.js";
