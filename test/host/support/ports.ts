/** Free TCP ports on the loopback interface, for multi-host tests over real sockets. */
export { freePorts } from '../../../tools/free-ports.js';
