package mysqletcd

import "testing"

func TestInRangeFollowsTheIntegerTypes(t *testing.T) {
	tests := []struct {
		c    column
		v    any
		want bool
	}{
		{column{dataType: "tinyint"}, int64(127), true},
		{column{dataType: "tinyint"}, int64(128), false},
		{column{dataType: "tinyint"}, int64(-128), true},
		{column{dataType: "tinyint"}, int64(-129), false},
		{column{dataType: "tinyint", unsigned: true}, int64(255), true},
		{column{dataType: "tinyint", unsigned: true}, int64(-1), false},
		{column{dataType: "bigint"}, int64(-9223372036854775808), true},
		{column{dataType: "bigint"}, uint64(1 << 63), false},
		{column{dataType: "bigint", unsigned: true}, uint64(1<<64 - 1), true},
		{column{dataType: "int"}, "2147483648", false},
		{column{dataType: "int"}, "-2147483648", true},
		{column{dataType: "year"}, int64(24), false},
	}
	for _, tt := range tests {
		if got := inRange(tt.c, tt.v); got != tt.want {
			t.Errorf("inRange(%s unsigned=%v, %#v) = %v, want %v", tt.c.dataType, tt.c.unsigned, tt.v, got, tt.want)
		}
	}
}
