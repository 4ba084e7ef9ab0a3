/*
 * ids.c - pure helpers that need no connection: CRC16/XMODEM and partitions
 * (FlowFabric-compatible, as the engine's ff_crc16 / ff_solo_partition /
 * ff_execution_partition), and the hex form of handles.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

uint16_t
ff_crc16(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint16_t	crc = 0;

	for (size_t i = 0; i < len; i++)
	{
		crc ^= (uint16_t) (p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t) ((crc << 1) ^ 0x1021) : (uint16_t) (crc << 1);
	}
	return crc;
}

int
ff_solo_partition(const char *lane_id)
{
	if (lane_id == NULL)
		return -1;
	return ff_crc16(lane_id, strlen(lane_id)) % 256;
}

int
ff_execution_partition(const char *execution_id)
{
	const char *p;
	long		n = 0;
	int			digits = 0;

	if (execution_id == NULL || strncmp(execution_id, "{fp:", 4) != 0)
		return -1;
	p = execution_id + 4;
	if (*p == '+')
		p++;
	while (*p >= '0' && *p <= '9' && digits < 12)
	{
		n = n * 10 + (*p - '0');
		p++;
		digits++;
	}
	if (digits == 0 || p[0] != '}' || p[1] != ':' || n > 255)
		return -1;
	return (int) n;
}

ff_status
ff_handle_to_hex(const ff_handle *h, char **hex_out)
{
	static const char hex[] = "0123456789abcdef";
	char	   *d;

	if (h == NULL || hex_out == NULL)
		return FF_ERR_USAGE;
	*hex_out = NULL;
	d = malloc(h->len * 2 + 1);
	if (d == NULL)
		return FF_ERR_OUT_OF_MEMORY;
	for (size_t i = 0; i < h->len; i++)
	{
		d[2 * i] = hex[h->data[i] >> 4];
		d[2 * i + 1] = hex[h->data[i] & 15];
	}
	d[h->len * 2] = '\0';
	*hex_out = d;
	return FF_OK;
}

int
ffc_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ff_status
ff_handle_from_hex(const char *hex, ff_handle *out)
{
	size_t		n;

	if (hex == NULL || out == NULL)
		return FF_ERR_USAGE;
	out->data = NULL;
	out->len = 0;
	if ((hex[0] == '\\' && hex[1] == 'x') || (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')))
		hex += 2;
	n = strlen(hex);
	if (n == 0 || n % 2 != 0)
		return FF_ERR_INVALID_INPUT;
	for (size_t i = 0; i < n; i++)
		if (ffc_hexval(hex[i]) < 0)
			return FF_ERR_INVALID_INPUT;
	out->data = malloc(n / 2);
	if (out->data == NULL)
		return FF_ERR_OUT_OF_MEMORY;
	for (size_t i = 0; i < n / 2; i++)
		out->data[i] = (unsigned char) (ffc_hexval(hex[2 * i]) << 4 | ffc_hexval(hex[2 * i + 1]));
	out->len = n / 2;
	return FF_OK;
}
