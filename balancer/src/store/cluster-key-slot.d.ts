/** The package ships no types; this is the part the balancer uses. */
declare module "cluster-key-slot" {
  /** The Redis Cluster hash slot (0..16383) of a key, honouring its `{hash tag}`. */
  function calculateSlot(key: string): number;
  export default calculateSlot;
}
