package pipeline

import (
	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/normalize"
	"github.com/restload/restload/internal/schema"
)

func tableName(r *config.Resource) string {
	if r.TableName != "" {
		return schema.NormalizeIdentifier(r.TableName)
	}
	return schema.NormalizeIdentifier(r.Name)
}

func disposition(r *config.Resource) string {
	if r.WriteDisposition != nil && r.WriteDisposition.Disposition != "" {
		return r.WriteDisposition.Disposition
	}
	return schema.Append
}

func specFor(r *config.Resource) normalize.Spec {
	s := normalize.Spec{
		Resource:         r.Name,
		Table:            tableName(r),
		WriteDisposition: disposition(r),
		PrimaryKey:       r.PrimaryKey,
		MergeKey:         r.MergeKey,
		MaxNesting:       r.MaxTableNesting,
	}
	return s
}
