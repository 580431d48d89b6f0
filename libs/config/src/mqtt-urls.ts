/** One broker node of MQTT_URL. */
export interface MqttBrokerAddress {
  protocol: 'mqtt' | 'mqtts';
  host: string;
  port: number;
}

/**
 * MQTT_URL: one broker node or several, comma-separated
 * (`mqtt://broker-1:1883,mqtt://broker-2:1883`). Undefined when any entry is
 * not an mqtt:// or mqtts:// URL with a host and, if given, a numeric port,
 * so a value the services cannot use stops them at boot instead of sending
 * them to some default.
 */
export function parseMqttUrls(value: unknown): MqttBrokerAddress[] | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const addresses: MqttBrokerAddress[] = [];
  for (const entry of value.split(',').map((part) => part.trim())) {
    const match = /^(mqtts?):\/\/([^/:?#@\s]+|\[[0-9a-fA-F:.]+\])(?::(\d{1,5}))?\/?$/.exec(entry);
    if (!match) return undefined;
    const [, protocol, host, port] = match;
    const portNumber = port === undefined ? (protocol === 'mqtts' ? 8883 : 1883) : Number(port);
    if (portNumber < 1 || portNumber > 65535) return undefined;
    addresses.push({ protocol: protocol as 'mqtt' | 'mqtts', host: host.replace(/^\[|\]$/g, ''), port: portNumber });
  }
  return addresses;
}
