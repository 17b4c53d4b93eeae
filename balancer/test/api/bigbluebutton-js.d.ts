declare module "bigbluebutton-js";
