// Output of birdc (BIRD 2.0.12) captured in network namespaces on 2026-11-28, verbatim, for the
// parser's tests (bird-status.test.ts): real text, so the parser is tested against what BIRD prints.
// Node 10.215.0.2 (AS 64512), router 10.215.0.1 (AS 64513).

/** `show protocols all` on a node: one session Established with BFD, one in Connect (peer absent). */
export const PROTOCOLS_ALL_ESTABLISHED = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     12:56:53.183  

egw_bfd    BFD        ---        up     12:56:53.183  

egw_egress Static     master4    up     12:56:53.183  
  Channel ipv4
    State:          UP
    Table:          master4
    Preference:     200
    Input filter:   ACCEPT
    Output filter:  REJECT
    Routes:         2 imported, 0 exported, 2 preferred
    Route change stats:     received   rejected   filtered    ignored   accepted
      Import updates:              2          0          0          0          2
      Import withdraws:            0          0        ---          0          0
      Export updates:              0          0          0        ---          0
      Export withdraws:            0        ---        ---        ---          0

peer_lab_router BGP        ---        up     12:56:57.274  Established   
  BGP state:          Established
    Neighbor address: 10.215.0.1
    Neighbor AS:      64513
    Local AS:         64512
    Neighbor ID:      10.215.0.1
    Local capabilities
      Multiprotocol
        AF announced: ipv4
      Route refresh
      Graceful restart
      4-octet AS numbers
      Enhanced refresh
      Long-lived graceful restart
    Neighbor capabilities
      Multiprotocol
        AF announced: ipv4
      Route refresh
      Graceful restart
      4-octet AS numbers
      Enhanced refresh
      Long-lived graceful restart
    Session:          external multihop AS4
    Source address:   10.215.0.2
    Hold timer:       6.062/9
    Keepalive timer:  0.996/3
  Channel ipv4
    State:          UP
    Table:          master4
    Preference:     100
    Input filter:   REJECT
    Output filter:  (unnamed)
    Routes:         0 imported, 2 exported, 0 preferred
    Route change stats:     received   rejected   filtered    ignored   accepted
      Import updates:              0          0          0          0          0
      Import withdraws:            0          0        ---          0          0
      Export updates:              2          0          0        ---          2
      Export withdraws:            0        ---        ---        ---          0
    BGP Next hop:   10.215.0.2
    IGP IPv4 table: master4

peer_nobody BGP        ---        start  12:56:53.183  Connect       
  BGP state:          Connect
    Neighbor address: 10.215.0.9
    Neighbor AS:      64513
    Local AS:         64512
  Channel ipv4
    State:          DOWN
    Table:          master4
    Preference:     100
    Input filter:   REJECT
    Output filter:  (unnamed)
    IGP IPv4 table: master4

`;

/** `show protocols all` after the router cut the session (Active, Received: Cease) and the other was disabled (Down). */
export const PROTOCOLS_ALL_DOWN = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     12:56:53.183  

egw_bfd    BFD        ---        up     12:56:53.183  

egw_egress Static     master4    up     12:56:53.183  
  Channel ipv4
    State:          UP
    Table:          master4
    Preference:     200
    Input filter:   ACCEPT
    Output filter:  REJECT
    Routes:         2 imported, 0 exported, 2 preferred
    Route change stats:     received   rejected   filtered    ignored   accepted
      Import updates:              2          0          0          0          2
      Import withdraws:            0          0        ---          0          0
      Export updates:              0          0          0        ---          0
      Export withdraws:            0        ---        ---        ---          0

peer_lab_router BGP        ---        start  12:57:24.662  Active        Received: Cease
  BGP state:          Active
    Neighbor address: 10.215.0.1
    Neighbor AS:      64513
    Local AS:         64512
    Connect delay:    2.786/5
    Last error:       Received: Cease
  Channel ipv4
    State:          DOWN
    Table:          master4
    Preference:     100
    Input filter:   REJECT
    Output filter:  (unnamed)
    IGP IPv4 table: master4

peer_nobody BGP        ---        down   12:57:24.373  
  BGP state:          Down
    Neighbor address: 10.215.0.9
    Neighbor AS:      64513
    Local AS:         64512
  Channel ipv4
    State:          DOWN
    Table:          master4
    Preference:     100
    Input filter:   REJECT
    Output filter:  (unnamed)
    IGP IPv4 table: master4

`;

/** `show protocols all peer_lab_router` just after BFD declared the router down. */
export const PROTOCOLS_ALL_BFD_DOWN = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
peer_lab_router BGP        ---        start  12:57:36.762  Active        Error: BFD session down
  BGP state:          Active
    Neighbor address: 10.215.0.1
    Neighbor AS:      64513
    Local AS:         64512
    Connect delay:    4.422/5
    Last error:       Error: BFD session down
  Channel ipv4
    State:          DOWN
    Table:          master4
    Preference:     100
    Input filter:   REJECT
    Output filter:  (unnamed)
    IGP IPv4 table: master4

`;

/** `show protocols all` of a config rendered like bird-config.ts (quoted peer protocol name, description, RFC 3339 time format). */
export const PROTOCOLS_ALL_RENDERED = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     2026-11-28T12:56:53+0000  

egw_egress Static     master4    up     2026-11-28T12:56:53+0000  
  Channel ipv4
    State:          UP
    Table:          master4
    Preference:     200
    Input filter:   ACCEPT
    Output filter:  REJECT
    Routes:         1 imported, 0 exported, 1 preferred
    Route change stats:     received   rejected   filtered    ignored   accepted
      Import updates:              3          0          0          0          3
      Import withdraws:            1          0        ---          0          1
      Export updates:              0          0          0        ---          0
      Export withdraws:            0        ---        ---        ---          0

peer.lab-router BGP        ---        start  2026-11-28T12:59:41+0000  Active        
  Description:    BGPPeer lab-router
  BGP state:          Active
    Neighbor address: 10.215.0.1
    Neighbor AS:      64513
    Local AS:         64512
    Connect delay:    4.468/5
  Channel ipv4
    State:          DOWN
    Table:          master4
    Preference:     100
    Input filter:   REJECT
    Output filter:  (unnamed)
    IGP IPv4 table: master4

`;

/** `show bfd sessions` on a node, one multihop session Up. */
export const BFD_SESSIONS = `BIRD 2.0.12 ready.
egw_bfd:
IP address                Interface  State      Since         Interval  Timeout
10.215.0.1                ---        Up         12:56:53.937    0.100    0.500
`;

/** `show route` on a router that learned two /32s whose next hop it could not resolve (multihop, no direct protocol). */
export const ROUTER_ROUTES = `BIRD 2.0.12 ready.
Table master4:
10.10.0.2/32         unreachable [node1 12:56:57.506 from 10.215.0.2] * (100) [AS64512i]
10.10.0.1/32         unreachable [node1 12:56:57.507 from 10.215.0.2] * (100) [AS64512i]
`;

/** `show route all` on the same router (BGP attributes, communities). */
export const ROUTER_ROUTES_ALL = `BIRD 2.0.12 ready.
Table master4:
10.10.0.2/32         unreachable [node1 12:56:57.506 from 10.215.0.2] * (100) [AS64512i]
	Type: BGP univ
	BGP.origin: IGP
	BGP.as_path: 64512
	BGP.next_hop: 10.215.0.2
	BGP.local_pref: 100
10.10.0.1/32         unreachable [node1 12:56:57.507 from 10.215.0.2] * (100) [AS64512i]
	Type: BGP univ
	BGP.origin: IGP
	BGP.as_path: 64512
	BGP.next_hop: 10.215.0.2
	BGP.local_pref: 100
	BGP.community: (64512,100)
	BGP.large_community: (64512, 1, 2)
`;
/** `show route` on a router with `protocol direct`: next hops resolved (via … on …). */
export const ROUTER_ROUTES_VIA = `BIRD 2.0.12 ready.
Table master4:
10.215.0.0/24        unicast [direct1 12:59:54.321] * (240)
	dev bgpnc4966b
10.10.0.2/32         unicast [node1 13:00:00.959] * (100) [AS64512i]
	via 10.215.0.2 on bgpnc4966b
10.10.0.1/32         unicast [node1 13:00:01.002] * (100) [AS64512i]
	via 10.215.0.2 on bgpnc4966b
`;

/** `show route all` on that router. */
export const ROUTER_ROUTES_ALL_VIA = `BIRD 2.0.12 ready.
Table master4:
10.215.0.0/24        unicast [direct1 12:59:54.321] * (240)
	dev bgpnc4966b
	Type: device univ
10.10.0.2/32         unicast [node1 13:00:00.959] * (100) [AS64512i]
	via 10.215.0.2 on bgpnc4966b
	Type: BGP univ
	BGP.origin: IGP
	BGP.as_path: 64512
	BGP.next_hop: 10.215.0.2
	BGP.local_pref: 100
10.10.0.1/32         unicast [node1 13:00:01.002] * (100) [AS64512i]
	via 10.215.0.2 on bgpnc4966b
	Type: BGP univ
	BGP.origin: IGP
	BGP.as_path: 64512
	BGP.next_hop: 10.215.0.2
	BGP.local_pref: 100
	BGP.community: (64512,100)
	BGP.large_community: (64512, 1, 2)
`;
